//! Hostile and broken input: every rejection reason, caps, injection attempts,
//! redelivery, partial mails and storage failures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::io::Write;

use stsguard::ingest::{self, prepare, IngestConfig, InputContext, InputKind, Prepared, RejectReason};
use stsguard::report::{parse_report, ReportHints, WarningCode};
use stsguard::store::{DirStore, MemoryStore, ObjectStore, PutOutcome, StoreError};
use stsguard::Limits;

const GOOD: &str = r#"{"organization-name":"Google Inc.","date-range":{"start-datetime":"2024-11-08T00:00:00Z","end-datetime":"2024-11-08T23:59:59Z"},"contact-info":"smtp-tls-reporting@google.com","report-id":"2024-11-08T00:00:00Z_eden.one","policies":[{"policy":{"policy-type":"sts","policy-string":["version: STSv1","mode: testing","mx: mail.eden.one","max_age: 86400"],"policy-domain":"eden.one","mx-host":["mail.eden.one"]},"summary":{"total-successful-session-count":1,"total-failure-session-count":0}}]}"#;

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for j in 0..4 {
            if j <= c.len() {
                out.push(A[(n >> (18 - 6 * j) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A report mail with the given attachments (media type, file name, bytes).
fn mail(extra_headers: &str, parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut m = format!(
        "From: noreply-smtp-tls-reporting@google.com\r\nTo: tlsrpt@eden.one\r\n\
         Subject: Report Domain: eden.one Submitter: google.com Report-ID: <x@google.com>\r\n\
         Message-ID: <x@google.com>\r\nTLS-Report-Domain: eden.one\r\nTLS-Report-Submitter: google.com\r\n\
         {extra_headers}MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=tlsrpt; boundary=\"BB\"\r\n\r\n\
         --BB\r\nContent-Type: text/plain\r\n\r\nThis is an aggregate TLS report.\r\n"
    );
    for (ct, name, data) in parts {
        m.push_str(&format!(
            "--BB\r\nContent-Type: {ct}\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            b64(data)
        ));
    }
    m.push_str("--BB--\r\n");
    m.into_bytes()
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_218_400, 0).unwrap() // 2024-11-10T06:00:00Z
}

fn run_with(raw: &[u8], kind: InputKind, limits: &Limits) -> Prepared {
    let ctx = InputContext {
        channel: "file".into(),
        input: Some("test.eml".into()),
        ..InputContext::default()
    };
    let config = IngestConfig {
        limits: limits.clone(),
        ..IngestConfig::default()
    };
    prepare(raw, kind, &ctx, &config, now())
}

fn run(raw: &[u8], kind: InputKind) -> Prepared {
    run_with(raw, kind, &Limits::default())
}

/// Asserts the input is rejected, whole, for `reason`; returns the detail.
fn rejected(p: &Prepared, reason: RejectReason) -> String {
    assert!(p.reports.is_empty(), "unexpected reports: {:?}", p.reports);
    let (key, rec) = p.rejection.as_ref().expect("no rejection record");
    assert_eq!(rec.reason, reason, "detail: {}", rec.detail);
    assert!(!rec.detail.is_empty());
    let (prefix, file) = key.split_at("rejected/day=2024-11-10/".len());
    assert_eq!(prefix, "rejected/day=2024-11-10/");
    assert_eq!(file.len(), 64 + 5, "{key}");
    assert!(file.ends_with(".json") && file[..64].bytes().all(|b| b.is_ascii_hexdigit()));
    rec.detail.clone()
}

fn good_with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn rejects_not_a_mail() {
    rejected(&run(b"", InputKind::Mail), RejectReason::NotAMail);
}

#[test]
fn rejects_mail_without_report_part() {
    let m = b"From: a@b.example\r\nSubject: hi\r\nContent-Type: text/plain\r\n\r\nJust saying hello.\r\n";
    rejected(&run(m, InputKind::Mail), RejectReason::NoReportPart);
    let m = mail("", &[("image/png", "logo.png", b"\x89PNG\r\n\x1a\nxxxx")]);
    rejected(&run(&m, InputKind::Mail), RejectReason::NoReportPart);
}

#[test]
fn rejects_truncated_gzip() {
    let data = gz(GOOD.as_bytes());
    let m = mail(
        "",
        &[("application/tlsrpt+gzip", "r.json.gz", &data[..data.len() / 2])],
    );
    rejected(&run(&m, InputKind::Mail), RejectReason::BadGzip);
    rejected(
        &run(&data[..data.len() - 4], InputKind::Payload),
        RejectReason::BadGzip,
    );
}

#[test]
fn rejects_corrupt_zip() {
    let mut junk = b"PK\x03\x04".to_vec();
    junk.extend_from_slice(&[0xAB; 200]);
    let m = mail("", &[("application/zip", "r.zip", &junk)]);
    rejected(&run(&m, InputKind::Mail), RejectReason::BadZip);
}

fn zip_of(members: usize, data: &[u8]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..members {
        w.start_file(format!("r{i}.json"), zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_with_many_members_is_too_large_and_a_few_are_all_taken() {
    let many = zip_of(Limits::default().max_zip_members + 1, b"{}");
    let d = rejected(&run(&many, InputKind::Payload), RejectReason::TooLarge);
    assert!(d.contains("members"), "{d}");

    let two: Vec<u8> = {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (i, rid) in ["a", "b"].iter().enumerate() {
            w.start_file(format!("r{i}.json"), zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(good_with("2024-11-08T00:00:00Z_eden.one", rid).as_bytes())
                .unwrap();
        }
        w.finish().unwrap().into_inner()
    };
    let p = run(&two, InputKind::Payload);
    assert!(p.rejection.is_none());
    assert_eq!(p.reports.len(), 2);
    assert_eq!(p.reports[0].1.source.compression, "zip");
    assert_eq!(p.reports[1].1.source.attachment_name.as_deref(), Some("r1.json"));
}

#[test]
fn oversize_inputs_are_too_large() {
    let limits = Limits {
        max_mail_bytes: 1000,
        max_report_bytes: 500,
        ..Limits::default()
    };
    // Raw mail over the cap.
    rejected(
        &run_with(&vec![b'x'; 1001], InputKind::Mail, &limits),
        RejectReason::TooLarge,
    );
    // Decompressed report over the cap.
    let padded = format!("{}{}", " ".repeat(600), GOOD);
    let m = mail(
        "",
        &[("application/tlsrpt+gzip", "r.json.gz", &gz(padded.as_bytes()))],
    );
    let limits = Limits {
        max_report_bytes: 500,
        ..Limits::default()
    };
    rejected(&run_with(&m, InputKind::Mail, &limits), RejectReason::TooLarge);
    // Too many report parts in one mail.
    let data = gz(GOOD.as_bytes());
    let parts: Vec<(&str, &str, &[u8])> = (0..3)
        .map(|_| ("application/gzip", "r.json.gz", &data[..]))
        .collect();
    let limits = Limits {
        max_reports_per_mail: 2,
        ..Limits::default()
    };
    rejected(
        &run_with(&mail("", &parts), InputKind::Mail, &limits),
        RejectReason::TooLarge,
    );
    // Too many policies.
    let many = GOOD.replace(
        r#""policies":[{"#,
        &format!(r#""policies":[{}{{"#, "{},".repeat(1001)),
    );
    let d = rejected(&run(many.as_bytes(), InputKind::Payload), RejectReason::TooLarge);
    assert!(d.contains("policies"), "{d}");
}

#[test]
fn rejects_bad_json() {
    for (what, bytes) in [
        ("not JSON", b"{not json".to_vec()),
        ("trailing garbage", format!("{GOOD} x").into_bytes()),
        (
            "invalid UTF-8 in a string",
            GOOD.replace("Google Inc.", "Goo\u{1}")
                .into_bytes()
                .iter()
                .map(|b| if *b == 1 { 0xff } else { *b })
                .collect(),
        ),
        (
            "deep nesting",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        ),
    ] {
        let d = rejected(&run(&bytes, InputKind::Payload), RejectReason::BadJson);
        if what == "deep nesting" {
            assert!(d.contains("nested deeper"), "{d}");
        }
    }
}

#[test]
fn rejects_unusable_reports() {
    let cases: Vec<(&str, String, &str)> = vec![
        ("top level array", "[]".into(), "not an object"),
        (
            "policies missing",
            r#"{"organization-name":"x"}"#.into(),
            "`policies` is missing",
        ),
        (
            "policies not a list",
            good_with(r#""policies":["#, r#""policies":{"x":["#).replacen("}]}", "}]}}", 1),
            "not a list",
        ),
        (
            "negative count",
            good_with(
                r#""total-successful-session-count":1"#,
                r#""total-successful-session-count":-1"#,
            ),
            "negative",
        ),
        (
            "fractional count",
            good_with(
                r#""total-successful-session-count":1"#,
                r#""total-successful-session-count":1.5"#,
            ),
            "not a non-negative integer",
        ),
        (
            "count not a number",
            good_with(
                r#""total-successful-session-count":1"#,
                r#""total-successful-session-count":"many""#,
            ),
            "not a non-negative integer",
        ),
        (
            "count is a boolean",
            good_with(
                r#""total-successful-session-count":1"#,
                r#""total-successful-session-count":true"#,
            ),
            "not a count",
        ),
        (
            "unparsable date",
            good_with("2024-11-08T00:00:00Z\"", "yesterday\""),
            "not an RFC 3339",
        ),
        (
            "date range missing",
            good_with(r#""date-range""#, r#""date-rang""#),
            "date-range: missing",
        ),
    ];
    for (what, json, needle) in cases {
        let p = run(json.as_bytes(), InputKind::Payload);
        let d = rejected(&p, RejectReason::BadReport);
        assert!(d.contains(needle), "{what}: {d}");
    }
}

#[test]
fn tolerances_are_recorded_as_warnings() {
    let cases: Vec<(&str, String, WarningCode)> = vec![
        (
            "count as string",
            good_with(
                r#""total-successful-session-count":1"#,
                r#""total-successful-session-count":"12""#,
            ),
            WarningCode::CountString,
        ),
        (
            "integral float count",
            good_with(
                r#""total-successful-session-count":1"#,
                r#""total-successful-session-count":12.0"#,
            ),
            WarningCode::CountFloat,
        ),
        (
            "offset",
            good_with("2024-11-08T00:00:00Z\"", "2024-11-08T01:00:00+01:00\""),
            WarningCode::DatetimeOffset,
        ),
        (
            "no offset",
            good_with("2024-11-08T00:00:00Z\"", "2024-11-08T00:00:00\""),
            WarningCode::DatetimeNoOffset,
        ),
        (
            "mx-host string",
            good_with(r#"["mail.eden.one"]}"#, r#""mail.eden.one"}"#),
            WarningCode::MxHostString,
        ),
        (
            "mx-host-pattern alias",
            good_with(r#""mx-host":"#, r#""mx-host-pattern":"#),
            WarningCode::AliasField,
        ),
        (
            "duplicate member",
            good_with(r#""report-id":"#, r#""report-id":"first","report-id":"#),
            WarningCode::DuplicateMember,
        ),
        (
            "unknown policy type",
            good_with(r#""policy-type":"sts""#, r#""policy-type":"dane-ish""#),
            WarningCode::UnknownPolicyType,
        ),
        (
            "contact-info null",
            good_with(r#""smtp-tls-reporting@google.com""#, "null"),
            WarningCode::FieldMissing,
        ),
        ("byte order mark", format!("\u{feff}{GOOD}"), WarningCode::Utf8Bom),
        (
            "week range",
            good_with("2024-11-08T23:59:59Z", "2024-11-14T23:59:59Z"),
            WarningCode::DateRangeNotOneDay,
        ),
        (
            "policy not an object",
            good_with(r#""policies":["#, r#""policies":[42,"#),
            WarningCode::ElementSkipped,
        ),
        (
            "long string",
            good_with("Google Inc.", &"G".repeat(5000)),
            WarningCode::StringTruncated,
        ),
    ];
    for (what, json, code) in cases {
        let r = parse_report(json.as_bytes(), &Limits::default(), &ReportHints::default())
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            r.warnings.iter().any(|w| w.code == code),
            "{what}: no {code:?} in {:#?}",
            r.warnings
        );
    }
    // Counts and times are read as the tolerance says.
    let r = parse_report(
        good_with("2024-11-08T00:00:00Z\"", "2024-11-08T01:00:00+01:00\"").as_bytes(),
        &Limits::default(),
        &ReportHints::default(),
    )
    .unwrap();
    assert_eq!(r.start, "2024-11-08T00:00:00Z");
    assert_eq!(r.day, "2024-11-08");
    let r = parse_report(
        good_with(
            r#""total-successful-session-count":1"#,
            r#""total-successful-session-count":"12""#,
        )
        .as_bytes(),
        &Limits::default(),
        &ReportHints::default(),
    )
    .unwrap();
    assert_eq!(r.policies[0].successful, 12);
}

#[test]
fn unknown_result_types_are_kept_and_flagged() {
    let json = good_with(
        r#""summary""#,
        r#""failure-details":[{"result-type":"Quantum-Failure","failed-session-count":2}],"summary""#,
    );
    let r = parse_report(json.as_bytes(), &Limits::default(), &ReportHints::default()).unwrap();
    let f = &r.policies[0].failures[0];
    assert_eq!(
        (f.result_type.as_str(), f.known, f.count),
        ("quantum-failure", false, 2)
    );
    assert!(r
        .warnings
        .iter()
        .any(|w| w.code == WarningCode::UnknownResultType));
    assert!(r
        .warnings
        .iter()
        .any(|w| w.code == WarningCode::FailureDetailsExceedTotal));
}

#[test]
fn missing_report_id_falls_back_to_the_payload_hash() {
    let json = good_with(r#""report-id":"2024-11-08T00:00:00Z_eden.one","#, "");
    let a = parse_report(json.as_bytes(), &Limits::default(), &ReportHints::default()).unwrap();
    let b = parse_report(json.as_bytes(), &Limits::default(), &ReportHints::default()).unwrap();
    assert!(a.report_id.starts_with("sha256:"));
    assert_eq!(a.id, b.id, "the same payload must get the same id");
    let other = json.replace("Google Inc.", "Google LLC");
    let c = parse_report(other.as_bytes(), &Limits::default(), &ReportHints::default()).unwrap();
    assert_ne!(a.id, c.id);
}

#[test]
fn crlf_and_html_in_organization_stay_data() {
    let evil = r#"Evil\r\nBcc: victim@example.com\r\n<script>alert(1)</script>"#;
    let json = good_with("Google Inc.", evil);
    let p = run(json.as_bytes(), InputKind::Payload);
    let (key, r) = &p.reports[0];
    assert_eq!(
        r.organization,
        "Evil\r\nBcc: victim@example.com\r\n<script>alert(1)</script>"
    );
    assert!(
        !key.contains('<') && !key.contains('\r') && !key.contains("Evil"),
        "{key}"
    );
    // The stored JSON escapes the control characters.
    let body = String::from_utf8(ingest::to_json(r)).unwrap();
    assert!(body.contains(r#"Evil\r\nBcc"#));
}

#[test]
fn header_injection_is_unfolded_out_of_source() {
    let m = mail(
        "X-Note: x\r\n",
        &[("application/tlsrpt+gzip", "r.json.gz", &gz(GOOD.as_bytes()))],
    );
    let m = String::from_utf8(m).unwrap().replacen(
        "Subject: Report",
        "Subject: =?utf-8?q?a=0D=0ABcc=3A_victim@example.com?= Report",
        1,
    );
    let p = run(m.as_bytes(), InputKind::Mail);
    let s = p.reports[0].1.source.subject.clone().unwrap();
    assert!(!s.contains('\r') && !s.contains('\n'), "{s:?}");
    assert!(s.starts_with("a Bcc:"), "{s:?}");
}

#[test]
fn path_traversal_in_report_text_never_reaches_a_path() {
    let json = good_with("2024-11-08T00:00:00Z_eden.one", "../../../../etc/passwd")
        .replace(r#""policy-domain":"eden.one""#, r#""policy-domain":"../../x/..""#);
    let p = run(json.as_bytes(), InputKind::Payload);
    let (key, r) = p.reports[0].clone();
    let key = &key;
    assert_eq!(r.report_id, "../../../../etc/passwd");
    assert!(r.warnings.iter().any(|w| w.code == WarningCode::DomainInvalid));
    let segments: Vec<&str> = key.split('/').collect();
    assert_eq!(segments.len(), 5, "{key}");
    assert!(
        segments.iter().all(|s| !s.is_empty() && *s != "." && *s != ".."),
        "{key}"
    );
    // One trailing dot is dropped by normalization, like any domain.
    assert_eq!(segments[3], "domain=%2E.%2F..%2Fx%2F.");

    // Written through the directory store, the file lands inside the root.
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path().join("store")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let out = rt.block_on(ingest::store_prepared(&store, p)).unwrap();
    assert_eq!(out.written.len(), 1);
    let listed = rt.block_on(store.list("")).unwrap();
    assert_eq!(listed, vec![key.clone()]);
    assert!(dir.path().join("store").join(key).is_file());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "nothing written outside the store"
    );
}

#[test]
fn redelivery_is_stored_once() {
    let m = mail(
        "",
        &[("application/tlsrpt+gzip", "r.json.gz", &gz(GOOD.as_bytes()))],
    );
    let store = MemoryStore::new();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let first = rt
        .block_on(ingest::store_prepared(&store, run(&m, InputKind::Mail)))
        .unwrap();
    let second = rt
        .block_on(ingest::store_prepared(&store, run(&m, InputKind::Mail)))
        .unwrap();
    assert_eq!((first.written.len(), first.duplicates.len()), (1, 0));
    assert_eq!((second.written.len(), second.duplicates.len()), (0, 1));
    assert_eq!(first.written, second.duplicates);
    assert_eq!(store.len(), 1);

    // The same report in a differently wrapped mail is the same report.
    let json_mail = mail("", &[("application/tlsrpt+json", "r.json", GOOD.as_bytes())]);
    let third = rt
        .block_on(ingest::store_prepared(&store, run(&json_mail, InputKind::Mail)))
        .unwrap();
    assert_eq!(third.duplicates, first.written);

    // A rejected mail redelivered: one record.
    let bad = mail(
        "",
        &[("application/tlsrpt+gzip", "r.json.gz", b"\x1f\x8bnot really")],
    );
    let r1 = rt
        .block_on(ingest::store_prepared(&store, run(&bad, InputKind::Mail)))
        .unwrap();
    let r2 = rt
        .block_on(ingest::store_prepared(&store, run(&bad, InputKind::Mail)))
        .unwrap();
    assert!(matches!(r1.rejected, Some((RejectReason::BadGzip, _, false))));
    assert!(matches!(r2.rejected, Some((RejectReason::BadGzip, _, true))));
    assert_eq!(store.len(), 2);
}

#[test]
fn a_redelivery_with_another_content_keeps_the_first_and_records_the_conflict() {
    let store = MemoryStore::new();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let store_mail = |json: &str| {
        let m = mail(
            "",
            &[("application/tlsrpt+gzip", "r.json.gz", &gz(json.as_bytes()))],
        );
        rt.block_on(ingest::store_prepared(&store, run(&m, InputKind::Mail)))
            .unwrap()
    };
    let first = store_mail(GOOD);
    assert_eq!(first.written.len(), 1);
    let get = |k: &str| rt.block_on(store.get(k)).unwrap().unwrap();
    let key = rt.block_on(store.list("reports/")).unwrap().remove(0);
    let kept = get(&key);

    // Same organization and report-id, another session count.
    let other = good_with(
        r#""total-successful-session-count":1"#,
        r#""total-successful-session-count":7"#,
    );
    let second = store_mail(&other);
    assert!(
        second.written.is_empty() && second.duplicates.is_empty(),
        "{second:?}"
    );
    assert_eq!(second.conflicts.len(), 1, "{second:?}");
    let (id, ckey) = &second.conflicts[0];
    assert_eq!(id, &first.written[0]);
    assert!(
        ckey.starts_with(&format!("rejected/day=2024-11-08/conflict-{id}-")) && ckey.ends_with(".json"),
        "{ckey}"
    );
    // The first stays, byte for byte.
    assert_eq!(get(&key), kept);
    let record: ingest::ConflictRecord = serde_json::from_slice(&get(ckey)).unwrap();
    assert_eq!(record.schema, ingest::CONFLICT_SCHEMA);
    assert_eq!(record.reason, "conflicting-redelivery");
    assert_eq!(
        (
            record.organization.as_str(),
            record.report_id.as_str(),
            record.domain.as_str()
        ),
        ("Google Inc.", "2024-11-08T00:00:00Z_eden.one", "eden.one")
    );
    assert_eq!(record.kept.key.as_deref(), Some(key.as_str()));
    assert_eq!(
        record.kept.payload_sha256,
        stsguard::sha256_hex(&gz(GOOD.as_bytes()))
    );
    assert_eq!(
        record.dropped.payload_sha256,
        stsguard::sha256_hex(&gz(other.as_bytes()))
    );
    assert_ne!(record.kept.content_sha256, record.dropped.content_sha256);
    assert!(ckey.ends_with(&format!("-{}.json", record.dropped.content_sha256)));

    // The same conflicting mail again: counted, recorded once.
    let third = store_mail(&other);
    assert_eq!(third.conflicts, second.conflicts);
    assert_eq!(store.len(), 2);
    // The first content again, wrapped otherwise (JSON, not gzip): an exact
    // redelivery, not a conflict.
    let json_mail = mail("", &[("application/tlsrpt+json", "r.json", GOOD.as_bytes())]);
    let again = rt
        .block_on(ingest::store_prepared(&store, run(&json_mail, InputKind::Mail)))
        .unwrap();
    assert_eq!((again.duplicates.len(), again.conflicts.len()), (1, 0));
    assert_eq!(store.len(), 2);
}

#[test]
fn a_stored_object_that_is_no_report_conflicts_with_a_new_one() {
    let m = mail(
        "",
        &[("application/tlsrpt+gzip", "r.json.gz", &gz(GOOD.as_bytes()))],
    );
    let p = run(&m, InputKind::Mail);
    let (key, report) = &p.reports[0];
    let c = ingest::conflict(key, Some(b"not json"), report).unwrap();
    assert_eq!(c.kept.key.as_deref(), Some(key.as_str()));
    assert!(c.kept.content_sha256.is_empty());
    assert_eq!(c.dropped.content_sha256, ingest::content_sha256(report));
    assert!(ingest::conflict(key, Some(&ingest::to_json(report)), report).is_none());
}

#[test]
fn a_mail_with_one_good_and_one_bad_part_keeps_both_facts() {
    let good = gz(GOOD.as_bytes());
    let m = mail(
        "",
        &[
            ("application/tlsrpt+gzip", "good.json.gz", &good),
            ("application/tlsrpt+gzip", "bad.json.gz", &good[..good.len() - 5]),
        ],
    );
    let p = run(&m, InputKind::Mail);
    assert_eq!(p.reports.len(), 1);
    let (_, rec) = p.rejection.as_ref().unwrap();
    assert_eq!(rec.reason, RejectReason::BadGzip);
    assert_eq!(rec.parts.len(), 1);
    assert_eq!(rec.parts[0].attachment_name.as_deref(), Some("bad.json.gz"));
    assert_eq!(rec.stored_reports, vec![p.reports[0].1.id.clone()]);
    assert_eq!(
        rec.mail.as_ref().unwrap().tls_report_domain.as_deref(),
        Some("eden.one")
    );
}

#[test]
fn unauthenticated_ses_mail_is_flagged_not_dropped() {
    let m = mail(
        "Authentication-Results: amazonses.com; spf=pass smtp.mailfrom=x@google.com; dkim=fail header.i=@google.com\r\n",
        &[("application/tlsrpt+gzip", "r.json.gz", &gz(GOOD.as_bytes()))],
    );
    let ctx = InputContext {
        channel: "s3".into(),
        raw_key: Some("incoming/abc".into()),
        ..InputContext::default()
    };
    let p = prepare(&m, InputKind::Mail, &ctx, &IngestConfig::default(), now());
    let r = &p.reports[0].1;
    assert_eq!(r.source.verdicts.dkim.as_deref(), Some("fail"));
    assert_eq!(r.source.raw_key.as_deref(), Some("incoming/abc"));
    assert!(r.warnings.iter().any(|w| w.code == WarningCode::Unauthenticated));
}

/// A store whose writes fail, as S3 does when its endpoint is down.
struct DownStore;

impl ObjectStore for DownStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Err(StoreError::Remote {
            op: "get",
            key: key.into(),
            source: "connection refused".into(),
        })
    }
    async fn put_if_absent(&self, key: &str, _body: Vec<u8>) -> Result<PutOutcome, StoreError> {
        Err(StoreError::Remote {
            op: "put",
            key: key.into(),
            source: "connection refused".into(),
        })
    }
    async fn put(&self, key: &str, _body: Vec<u8>) -> Result<(), StoreError> {
        Err(StoreError::Remote {
            op: "put",
            key: key.into(),
            source: "connection refused".into(),
        })
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::Remote {
            op: "list",
            key: prefix.into(),
            source: "connection refused".into(),
        })
    }
}

#[test]
fn a_storage_failure_is_an_error_not_a_rejection() {
    let m = mail(
        "",
        &[("application/tlsrpt+gzip", "r.json.gz", &gz(GOOD.as_bytes()))],
    );
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let err = rt
        .block_on(ingest::ingest(
            &DownStore,
            &m,
            InputKind::Mail,
            &InputContext::default(),
            &IngestConfig::default(),
            now(),
        ))
        .unwrap_err();
    let chain = stsguard::store::ErrorChain(&err).to_string();
    assert!(chain.contains("connection refused"), "{chain}");
}

#[test]
fn dir_store_is_put_if_absent_and_refuses_unsafe_keys() {
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        assert_eq!(
            store.put_if_absent("a/b.json", b"1".to_vec()).await.unwrap(),
            PutOutcome::Created
        );
        assert_eq!(
            store.put_if_absent("a/b.json", b"2".to_vec()).await.unwrap(),
            PutOutcome::AlreadyExists
        );
        assert_eq!(store.get("a/b.json").await.unwrap(), Some(b"1".to_vec()));
        assert_eq!(store.get("a/c.json").await.unwrap(), None);
        store.put_if_absent("a/c/d.json", b"3".to_vec()).await.unwrap();
        store.put_if_absent("ab.json", b"4".to_vec()).await.unwrap();
        assert_eq!(store.list("a/").await.unwrap(), vec!["a/b.json", "a/c/d.json"]);
        assert_eq!(
            store.list("a").await.unwrap(),
            vec!["a/b.json", "a/c/d.json", "ab.json"]
        );
        assert_eq!(store.list("zzz/").await.unwrap(), Vec::<String>::new());
        for bad in ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a\\b", "./a"] {
            assert!(
                matches!(
                    store.put_if_absent(bad, vec![]).await,
                    Err(StoreError::InvalidKey { .. })
                ),
                "{bad:?}"
            );
        }
    });
    // No temporary files are left behind.
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(p: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(p).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[test]
fn allowlist_rejects_reports_for_other_domains() {
    let m = mail(
        "",
        &[("application/tlsrpt+gzip", "r.json.gz", &gz(GOOD.as_bytes()))],
    );
    let ctx = InputContext::default();
    let only_example = IngestConfig {
        allowed_domains: Some(vec!["example.com".into()]),
        ..IngestConfig::default()
    };
    let p = prepare(&m, InputKind::Mail, &ctx, &only_example, now());
    let d = rejected(&p, RejectReason::UnexpectedDomain);
    assert!(d.contains("eden.one") && d.contains("example.com"), "{d}");

    let with_eden = IngestConfig {
        allowed_domains: Some(vec!["example.com".into(), "eden.one".into()]),
        ..IngestConfig::default()
    };
    let p = prepare(&m, InputKind::Mail, &ctx, &with_eden, now());
    assert_eq!(p.reports.len(), 1);
    assert!(p.rejection.is_none());
}

#[test]
fn require_dkim_rejects_unauthenticated_mail_and_accepts_signed_mail() {
    let report = gz(GOOD.as_bytes());
    let strict = IngestConfig {
        require_dkim: true,
        ..IngestConfig::default()
    };
    let failing = mail(
        "Authentication-Results: amazonses.com; dkim=fail header.i=@google.com\r\n",
        &[("application/tlsrpt+gzip", "r.json.gz", &report)],
    );
    let d = rejected(
        &prepare(
            &failing,
            InputKind::Mail,
            &InputContext::default(),
            &strict,
            now(),
        ),
        RejectReason::Unauthenticated,
    );
    assert!(d.contains("fail"), "{d}");
    let unsigned = mail("", &[("application/tlsrpt+gzip", "r.json.gz", &report)]);
    rejected(
        &prepare(
            &unsigned,
            InputKind::Mail,
            &InputContext::default(),
            &strict,
            now(),
        ),
        RejectReason::Unauthenticated,
    );

    let passing = mail(
        "Authentication-Results: amazonses.com; dkim=pass header.i=@google.com\r\n",
        &[("application/tlsrpt+gzip", "r.json.gz", &report)],
    );
    let p = prepare(
        &passing,
        InputKind::Mail,
        &InputContext::default(),
        &strict,
        now(),
    );
    assert_eq!(p.reports.len(), 1, "{:?}", p.rejection);
    assert!(p.reports[0].1.warnings.is_empty());

    // The SES event's verdict wins over the stored headers.
    let ctx = InputContext {
        channel: "ses".into(),
        verdicts: Some(stsguard::report::Verdicts {
            dkim: Some("pass".into()),
            ..Default::default()
        }),
        ..InputContext::default()
    };
    let p = prepare(&failing, InputKind::Mail, &ctx, &strict, now());
    assert_eq!(p.reports.len(), 1);
    assert_eq!(
        p.reports[0].1.source.verdicts.dkim_domain.as_deref(),
        Some("google.com")
    );
}

#[test]
fn domain_falls_back_to_header_then_file_name_then_unknown() {
    let no_domain = good_with(r#""policy-domain":"eden.one","#, "");
    let hints = |header: Option<&'static str>, file: Option<&'static str>| ReportHints {
        header_domain: header,
        header_submitter: None,
        file_name: file,
    };
    let by = |h: ReportHints<'_>| {
        let r = parse_report(no_domain.as_bytes(), &IngestConfig::default().limits, &h).unwrap();
        assert!(
            r.warnings
                .iter()
                .any(|w| w.code == WarningCode::DomainNotInReport),
            "{:?}",
            r.warnings
        );
        r.domain
    };
    assert_eq!(
        by(hints(
            Some("Eden.One."),
            Some("google.com!other.example!1!2.json")
        )),
        "eden.one"
    );
    assert_eq!(
        by(hints(
            None,
            Some("google.com!From-File.example!1731024000!1731110399!001.json.gz")
        )),
        "from-file.example"
    );
    assert_eq!(by(hints(None, Some("report.json"))), "_unknown");
    assert_eq!(by(hints(None, None)), "_unknown");
    // The body wins when it names a domain.
    let r = parse_report(
        GOOD.as_bytes(),
        &IngestConfig::default().limits,
        &hints(Some("other.example"), None),
    )
    .unwrap();
    assert_eq!(r.domain, "eden.one");
    assert!(r.warnings.iter().any(|w| w.code == WarningCode::HeaderMismatch));
}
