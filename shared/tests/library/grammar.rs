#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]
//! Table tests for the three small grammars: the `_mta-sts` TXT record (RFC 8461
//! §3.1), the `mta-sts.txt` policy (RFC 8461 §3.2, §4.1) and the `_smtp._tls`
//! TXT record (RFC 8460 §3). Every rule ID has an input where it fires and a
//! close input where it must not; a proptest feeds arbitrary input to every
//! parser.

use proptest::prelude::*;
use stsguard::diag::{Diagnostic, Severity};
use stsguard::policy::{mx_matches, parse_policy, Mode, PolicyResult};
use stsguard::records::{
    parse_presentation, parse_sts_records, parse_tlsrpt_records, StsRecordResult, TlsrptRecordResult,
};

// ---------------------------------------------------------------- helpers

fn sts(records: &[&[&str]]) -> StsRecordResult {
    let records: Vec<Vec<Vec<u8>>> = records
        .iter()
        .map(|r| r.iter().map(|s| s.as_bytes().to_vec()).collect())
        .collect();
    parse_sts_records(&records)
}

fn sts1(record: &str) -> StsRecordResult {
    sts(&[&[record]])
}

fn tlsrpt(records: &[&[&str]]) -> TlsrptRecordResult {
    let records: Vec<Vec<Vec<u8>>> = records
        .iter()
        .map(|r| r.iter().map(|s| s.as_bytes().to_vec()).collect())
        .collect();
    parse_tlsrpt_records(&records)
}

fn tlsrpt1(record: &str) -> TlsrptRecordResult {
    tlsrpt(&[&[record]])
}

fn pol(body: &str) -> PolicyResult {
    parse_policy(body.as_bytes(), Some("example.com"))
}

#[track_caller]
fn fires(diags: &[Diagnostic], rule: &str, severity: Severity, input: &str) {
    assert!(
        diags.iter().any(|d| d.rule == rule && d.severity == severity),
        "{rule} ({severity:?}) expected for {input:?}, got {diags:#?}"
    );
}

#[track_caller]
fn absent(diags: &[Diagnostic], rule: &str, input: &str) {
    assert!(
        !diags.iter().any(|d| d.rule == rule),
        "{rule} must not fire for {input:?}, got {diags:#?}"
    );
}

const GOOD_POLICY: &str = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 604800\r\n";

fn policy_with(lines: &[&str]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(l);
        s.push_str("\r\n");
    }
    s
}

// ---------------------------------------------------------------- diag

#[test]
fn severity_orders_error_above_warning_above_info() {
    assert!(Severity::Error > Severity::Warning);
    assert!(Severity::Warning > Severity::Info);
    assert_eq!(serde_json::to_string(&Severity::Warning).unwrap(), "\"warning\"");
    let d = Diagnostic::new("STS004", Severity::Error, "x");
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["rule"], "STS004");
    assert_eq!(json["severity"], "error");
}

// ---------------------------------------------------------------- _mta-sts

#[test]
fn rfc8461_3_1_valid_record_is_clean_and_discoverable() {
    for rec in [
        "v=STSv1; id=20240601T120000Z",
        "v=STSv1;id=1",
        "v=STSv1; id=1;",
        "v=STSv1;\tid=1 ;  ",
    ] {
        let r = sts1(rec);
        assert!(r.diagnostics.is_empty(), "{rec:?}: {:#?}", r.diagnostics);
        assert!(r.discoverable, "{rec:?}");
    }
    assert_eq!(
        sts1("v=STSv1; id=20240601T120000Z").record.unwrap().id.as_deref(),
        Some("20240601T120000Z")
    );
}

#[test]
fn rfc8461_3_1_version_must_be_exact_and_first() {
    for rec in [
        "v=stsv1; id=1",
        " v=STSv1; id=1",
        "id=1; v=STSv1",
        "v = STSv1; id=1",
        "v=STSv2; id=1",
        "v=STSv10; id=1",
        "\u{a0}v=STSv1; id=1",
    ] {
        let r = sts1(rec);
        fires(&r.diagnostics, "STS002", Severity::Error, rec);
        absent(&r.diagnostics, "STS008", rec);
        assert!(!r.discoverable && r.record.is_none(), "{rec:?}");
    }
    let rec = "v=STSv1; id=1";
    absent(&sts1(rec).diagnostics, "STS002", rec);
}

#[test]
fn rfc8461_3_1_near_miss_beside_valid_record_keeps_policy_discoverable() {
    let r = sts(&[&["v=STSv1; id=1"], &["v=stsv1; id=2"]]);
    fires(&r.diagnostics, "STS002", Severity::Error, "two records");
    absent(&r.diagnostics, "STS003", "two records");
    assert!(r.discoverable);
}

#[test]
fn rfc8461_3_1_exactly_one_record() {
    let r = sts(&[&["v=STSv1; id=a"], &["v=STSv1; id=b"]]);
    fires(&r.diagnostics, "STS003", Severity::Error, "two STS records");
    assert!(!r.discoverable && r.record.is_none());
    let r = sts(&[&["v=STSv1; id=a"], &["v=spf1 -all"]]);
    absent(&r.diagnostics, "STS003", "STS + SPF");
    assert!(r.discoverable);
}

#[test]
fn rfc8461_3_1_id_is_1_to_32_alnum() {
    let id33 = format!("v=STSv1; id={}", "a".repeat(33));
    for rec in [
        "v=STSv1;",
        "v=STSv1",
        "v=STSv1; id=",
        "v=STSv1; id=2024-06-01",
        "v=STSv1; id=v1.2",
        "v=STSv1; id=abc==",
        "v=STSv1; ID=1",
        id33.as_str(),
    ] {
        let r = sts1(rec);
        fires(&r.diagnostics, "STS004", Severity::Error, rec);
        assert!(!r.discoverable, "{rec:?}");
    }
    let id32 = format!("v=STSv1; id={}", "Z9".repeat(16));
    for rec in ["v=STSv1; id=20240601T120000Z", "v=STSv1; id=1", id32.as_str()] {
        absent(&sts1(rec).diagnostics, "STS004", rec);
    }
}

#[test]
fn rfc8461_3_1_general_grammar() {
    let long = "a".repeat(256);
    let long_rec = format!("v=STSv1; id=1; x={long}");
    let cases: &[&[&str]] = &[
        &["v=STSv1; id=1;;"],
        &["v=STSv1;; id=1"],
        &["v=STSv1; ; id=1"],
        &["v=STSv1, id=1"],
        &["v=STSv1 id=1"],
        &["v=STSv1; id=1 x"],
        &["v=STSv1; id = 1"],
        &["v=STSv1; id=2024", " 0601"],
        &["v=STSv1; id=1; x=caf\u{e9}"],
        &["v=STSv1; id=1; _x=1"],
        &["v=STSv1; id=1; x="],
        &["v=STSv1; id=1; x=a=b"],
        &["v=STSv1; id=1; novalue"],
        &["v=STSv1; id=1\r\n"],
        &["v=STSv1 "],
        // White space only belongs to a `;` delimiter: none after the last
        // field without one (mox discards such a record).
        &["v=STSv1; id=20240601 "],
        &["v=STSv1; id=20240601\t"],
        &["v=STSv1; id=1", " "],
        &["v=STSv1; id=1; x=y "],
        &[long_rec.as_str()],
    ];
    for rec in cases {
        let r = sts(&[rec]);
        fires(&r.diagnostics, "STS005", Severity::Error, &rec.join("|"));
        assert!(!r.discoverable, "{rec:?}");
    }
    let ok: &[&[&str]] = &[
        &["v=STSv1; id=1;"],
        &["v=STSv1;id=1"],
        &["v=STSv1; id=1;\t "],
        &["v=STSv1; id=1 ;"],
        &["v=STSv1; id=1 ; "],
        &["v=STSv1; id=2024", "0601"],
        &["v=STSv1;\tid=1 ;  x=y"],
        &["v=STSv1; id=1; a.b-c_d=!\"#$%&'()*+,-./:<>?@[]^`{|}~"],
    ];
    for rec in ok {
        let r = sts(&[rec]);
        absent(&r.diagnostics, "STS005", &rec.join("|"));
        assert!(r.discoverable, "{rec:?}");
    }
}

/// RFC 8461 §3.1, one production at a time: `sts-ext-name` is a letter or
/// digit and up to 31 of letters, digits, `_`, `-`, `.`; `sts-ext-value` is
/// 1* of %x21-3A / %x3C / %x3E-7E; `sts-field-delim` is `*WSP ";" *WSP`.
#[test]
fn rfc8461_3_1_abnf_productions() {
    let name32 = format!("v=STSv1; id=1; a{}=x", "b".repeat(31));
    let name33 = format!("v=STSv1; id=1; a{}=x", "b".repeat(32));
    let table: &[(&str, bool)] = &[
        // sts-ext-name
        (name32.as_str(), true),
        (name33.as_str(), false),
        ("v=STSv1; id=1; 9x=1", true),
        ("v=STSv1; id=1; x.y-z_w=1", true),
        ("v=STSv1; id=1; -x=1", false),
        ("v=STSv1; id=1; .x=1", false),
        ("v=STSv1; id=1; x/y=1", false),
        // sts-ext-value
        ("v=STSv1; id=1; x=!", true),
        ("v=STSv1; id=1; x=~", true),
        ("v=STSv1; id=1; x=:<>", true),
        ("v=STSv1; id=1; x=a\u{7f}", false),
        ("v=STSv1; id=1; x=a b", false),
        // sts-field-delim and the optional final delimiter
        ("v=STSv1;\tid=1\t;\tx=y\t;\t", true),
        ("v=STSv1; id=1\t", false),
        ("v=STSv1;id=1;x=y", true),
    ];
    for (rec, valid) in table {
        let r = sts1(rec);
        if *valid {
            absent(&r.diagnostics, "STS005", rec);
            assert!(r.discoverable, "{rec:?}: {:#?}", r.diagnostics);
        } else {
            fires(&r.diagnostics, "STS005", Severity::Error, rec);
            assert!(!r.discoverable, "{rec:?}");
        }
    }
}

#[test]
fn rfc8461_3_1_split_strings_join_without_separator() {
    let r = sts(&[&["v=STSv1; id=2024", "0601"]]);
    assert_eq!(r.record.unwrap().id.as_deref(), Some("20240601"));
    let r = sts(&[&["v=STSv1; id=2024", " 0601"]]);
    assert!(
        r.diagnostics
            .iter()
            .any(|d| d.rule == "STS005" && d.message.contains("joined")),
        "{:#?}",
        r.diagnostics
    );
    let presented = parse_presentation(r#""v=STSv1; id=2024" "0601""#);
    let r = parse_sts_records(&[presented]);
    assert!(r.discoverable, "{:#?}", r.diagnostics);
}

#[test]
fn eid_6285_whitespace_before_first_semicolon_warns() {
    let rec = "v=STSv1 ; id=20240601";
    let r = sts1(rec);
    fires(&r.diagnostics, "STS006", Severity::Warning, rec);
    absent(&r.diagnostics, "STS005", rec);
    assert!(r.discoverable);
    let rec = "v=STSv1; id=20240601";
    absent(&sts1(rec).diagnostics, "STS006", rec);
}

#[test]
fn rfc8461_3_2_duplicate_field_first_wins() {
    let rec = "v=STSv1; id=1; id=2";
    let r = sts1(rec);
    fires(&r.diagnostics, "STS007", Severity::Warning, rec);
    assert_eq!(r.record.unwrap().id.as_deref(), Some("1"));
    let rec = "v=STSv1; id=1; ida=2";
    absent(&sts1(rec).diagnostics, "STS007", rec);
}

#[test]
fn rfc8461_3_1_unrelated_records_are_discarded_with_a_warning() {
    let r = sts(&[&["v=spf1 -all"], &["v=STSv1; id=1"]]);
    fires(&r.diagnostics, "STS008", Severity::Warning, "spf + sts");
    assert!(r.discoverable);
    let r = sts(&[&["v=STSv1; id=1"]]);
    absent(&r.diagnostics, "STS008", "sts only");
    let r = sts(&[&["v=spf1 include:stsv1.example -all"]]);
    fires(&r.diagnostics, "STS008", Severity::Warning, "spf only");
    absent(&r.diagnostics, "STS002", "spf only");
    assert!(!r.discoverable && r.record.is_none());
}

#[test]
fn rfc8461_3_2_unknown_fields_are_info() {
    let rec = "v=STSv1; id=1; rpt=yes";
    let r = sts1(rec);
    fires(&r.diagnostics, "STS010", Severity::Info, rec);
    assert!(r.discoverable);
    let ext = &r.record.unwrap().extensions;
    assert_eq!((ext[0].name.as_str(), ext[0].value.as_str()), ("rpt", "yes"));
    let rec = "v=STSv1; id=1";
    absent(&sts1(rec).diagnostics, "STS010", rec);
}

#[test]
fn caps_bound_records_and_record_count() {
    let huge = "v=STSv1; id=1; x=".to_owned() + &"a".repeat(100_000);
    let r = sts1(&huge);
    fires(&r.diagnostics, "STS005", Severity::Error, "huge");
    let many: Vec<Vec<Vec<u8>>> = (0..10_000).map(|_| vec![b"v=spf1 -all".to_vec()]).collect();
    let r = parse_sts_records(&many);
    assert!(r.diagnostics.len() < 40, "{}", r.diagnostics.len());
}

// ---------------------------------------------------------------- _smtp._tls

const GOOD_TLSRPT: &str = "v=TLSRPTv1; rua=mailto:tls@example.com";

#[test]
fn rfc8460_3_valid_record_is_clean() {
    for rec in [
        GOOD_TLSRPT,
        "v=TLSRPTv1;rua=https://r.example/tls",
        "v=TLSRPTv1; rua=mailto:a@example.com , https://r.example:8443/v1/tls?x=1;",
        "v=TLSRPTv1; rua=mailto:a%21b@example.com?subject=TLS",
    ] {
        let r = tlsrpt1(rec);
        assert!(r.diagnostics.is_empty(), "{rec:?}: {:#?}", r.diagnostics);
        assert!(r.discoverable);
    }
    let r = tlsrpt1("v=TLSRPTv1; rua=mailto:a@example.com,https://r.example/tls");
    assert_eq!(
        r.record.unwrap().rua,
        ["mailto:a@example.com", "https://r.example/tls"]
    );
}

#[test]
fn rfc8460_3_version_must_be_exact() {
    for rec in [
        "v=tlsrptv1; rua=mailto:t@example.com",
        "v=TLSRPT1; rua=mailto:t@example.com",
        " v=TLSRPTv1; rua=mailto:t@example.com",
        "v = TLSRPTv1; rua=mailto:t@example.com",
        "rua=mailto:t@example.com",
    ] {
        let r = tlsrpt1(rec);
        fires(&r.diagnostics, "TLR002", Severity::Error, rec);
        assert!(!r.discoverable);
    }
    absent(&tlsrpt1(GOOD_TLSRPT).diagnostics, "TLR002", GOOD_TLSRPT);
    // Unrelated records at `_smtp._tls` are simply discarded, even one that holds `rua=`.
    let r = tlsrpt(&[
        &["v=spf1 -all"],
        &["v=DMARC1; p=none; rua=mailto:d@example.com"],
        &[GOOD_TLSRPT],
    ]);
    assert!(r.diagnostics.is_empty() && r.discoverable, "{:#?}", r.diagnostics);
}

#[test]
fn rfc8460_3_exactly_one_record() {
    let r = tlsrpt(&[&[GOOD_TLSRPT], &["v=TLSRPTv1; rua=mailto:other@example.com"]]);
    fires(&r.diagnostics, "TLR003", Severity::Error, "two");
    assert!(!r.discoverable && r.record.is_none());
    let r = tlsrpt(&[&[GOOD_TLSRPT], &["google-site-verification=abc"]]);
    absent(&r.diagnostics, "TLR003", "one");
}

#[test]
fn rfc8460_3_rua_is_required() {
    for rec in ["v=TLSRPTv1;", "v=TLSRPTv1; rua=", "v=TLSRPTv1; x=1", "v=TLSRPTv1"] {
        fires(&tlsrpt1(rec).diagnostics, "TLR004", Severity::Error, rec);
    }
    absent(&tlsrpt1(GOOD_TLSRPT).diagnostics, "TLR004", GOOD_TLSRPT);
}

#[test]
fn rfc8460_3_rua_scheme_is_mailto_or_https() {
    for rec in [
        "v=TLSRPTv1; rua=postmaster@example.com",
        "v=TLSRPTv1; rua=http://r.example/tls",
        "v=TLSRPTv1; rua=ftp://r.example/tls",
        "v=TLSRPTv1; rua=mailto:a@example.com,b@example.com",
    ] {
        fires(&tlsrpt1(rec).diagnostics, "TLR005", Severity::Error, rec);
    }
    for rec in [
        "v=TLSRPTv1; rua=https://r.example/tls",
        "v=TLSRPTv1; rua=MAILTO:a@example.com",
    ] {
        absent(&tlsrpt1(rec).diagnostics, "TLR005", rec);
    }
}

#[test]
fn rfc8460_3_rua_uri_syntax() {
    for rec in [
        "v=TLSRPTv1; rua=mailto:tls@example.com!10m",
        "v=TLSRPTv1; rua=mailto:tls@example.com!x",
        "v=TLSRPTv1; rua = mailto:a@b",
        "v=TLSRPTv1; rua =mailto:a@example.com",
        "v=TLSRPTv1; rua=mailto:,https://",
        "v=TLSRPTv1; rua=mailto:a@example.com,,mailto:b@example.com",
        "v=TLSRPTv1; rua=mailto:a@ex\u{e4}mple.com",
        "v=TLSRPTv1; rua=mailto:a@@example.com",
        "v=TLSRPTv1; rua=mailto:@example.com",
        "v=TLSRPTv1; rua=mailto:a@example..com",
        "v=TLSRPTv1; rua=mailto:a b@example.com",
        "v=TLSRPTv1; rua=https://",
        "v=TLSRPTv1; rua=https:r.example",
        "v=TLSRPTv1; rua=https://r.example/%zz",
        "v=TLSRPTv1; rua=https://r_x.example/",
        "v=TLSRPTv1; rua=mailto:a@example.com; x=",
        // White space after the last field needs a `;` (RFC 8460 §3 field-delim).
        "v=TLSRPTv1; rua=mailto:a@example.com ",
    ] {
        let r = tlsrpt1(rec);
        fires(&r.diagnostics, "TLR006", Severity::Error, rec);
        assert!(!r.discoverable, "{rec:?}");
    }
    for rec in [
        "v=TLSRPTv1; rua=mailto:a@example.com ,  mailto:b@example.com",
        "v=TLSRPTv1; rua=mailto:a@example.com ; ",
        "v=TLSRPTv1; rua=mailto:a%2Cb@example.com",
        "v=TLSRPTv1; rua=https://[2001:db8::1]/tls",
    ] {
        absent(&tlsrpt1(rec).diagnostics, "TLR006", rec);
    }
}

#[test]
fn rfc8460_3_legal_but_poorly_supported_forms_warn() {
    let rec = "v=TLSRPTv1; rua=mailto:a@x.example; rua=mailto:b@x.example";
    let r = tlsrpt1(rec);
    fires(&r.diagnostics, "TLR007", Severity::Warning, rec);
    assert!(r.discoverable);
    assert_eq!(r.record.unwrap().rua.len(), 2);
    let rec = "v=TLSRPTv1; x=1; rua=mailto:a@x.example";
    fires(&tlsrpt1(rec).diagnostics, "TLR007", Severity::Warning, rec);
    let rec = "v=TLSRPTv1 ; rua=mailto:a@x.example";
    fires(&tlsrpt1(rec).diagnostics, "TLR007", Severity::Warning, rec);
    let rec = "v=TLSRPTv1; rua=mailto:a@x.example; x=1";
    let r = tlsrpt1(rec);
    absent(&r.diagnostics, "TLR007", rec);
    fires(&r.diagnostics, "STS010", Severity::Info, rec);
    absent(&tlsrpt1(GOOD_TLSRPT).diagnostics, "STS010", GOOD_TLSRPT);
}

// ---------------------------------------------------------------- presentation

#[test]
fn presentation_form_reads_dig_strings() {
    assert_eq!(
        parse_presentation(r#""v=STSv1; id=2024" "0601""#),
        vec![b"v=STSv1; id=2024".to_vec(), b"0601".to_vec()]
    );
    assert_eq!(
        parse_presentation(r#""a\"b\\c\059d""#),
        vec![b"a\"b\\c;d".to_vec()]
    );
    assert_eq!(parse_presentation(r#""\195\164""#), vec![vec![0xC3, 0xA4]]);
    assert_eq!(
        parse_presentation(" v=STSv1; id=1"),
        vec![b" v=STSv1; id=1".to_vec()]
    );
    assert_eq!(
        parse_presentation("v=STSv1; id=1"),
        vec![b"v=STSv1; id=1".to_vec()]
    );
    assert_eq!(
        parse_presentation(r#""unterminated"#),
        vec![b"unterminated".to_vec()]
    );
    assert_eq!(parse_presentation(r#""a\"#), vec![b"a\\".to_vec()]);
    assert_eq!(
        parse_presentation(r#""a" b "c""#),
        vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );
}

// ---------------------------------------------------------------- policy

#[test]
fn rfc8461_3_2_valid_policy_is_clean() {
    let r = pol(GOOD_POLICY);
    assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
    assert_eq!(r.policy.version.as_deref(), Some("STSv1"));
    assert_eq!(r.policy.mode, Some(Mode::Enforce));
    assert_eq!(r.policy.max_age, Some(604800));
    assert_eq!(r.policy.mx.len(), 1);
    assert!(r.policy.mx[0].valid && r.policy.mx[0].matches("MAIL.example.com."));
    // No terminator at the end, no space after `:`, trailing whitespace: all legal.
    let body = "version:STSv1\r\nmode: testing \t\r\nmx: *.example.net\r\nmax_age: 1209600";
    let r = parse_policy(body.as_bytes(), None);
    assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
}

#[test]
fn eid_6253_lf_and_mixed_terminators_are_legal() {
    for body in [
        GOOD_POLICY.replace("\r\n", "\n"),
        GOOD_POLICY.replacen("\r\n", "\n", 2),
    ] {
        let r = pol(&body);
        assert!(
            r.diagnostics.iter().all(|d| d.severity == Severity::Info),
            "{body:?}: {:#?}",
            r.diagnostics
        );
        fires(&r.diagnostics, "POL011", Severity::Info, &body);
    }
    absent(&pol(GOOD_POLICY).diagnostics, "POL011", GOOD_POLICY);
}

#[test]
fn rfc8461_3_2_body_must_be_a_key_value_policy() {
    let bom = format!("\u{feff}{GOOD_POLICY}");
    let zwsp = format!("\u{200b}{GOOD_POLICY}");
    for body in [
        "<!DOCTYPE html><html><body>Not found</body></html>",
        "{\"version\": \"STSv1\"}",
        "",
        "   \r\n",
        "just some text",
        bom.as_str(),
        zwsp.as_str(),
    ] {
        fires(&pol(body).diagnostics, "POL001", Severity::Error, body);
    }
    let r = pol(&bom);
    assert_eq!(r.policy.version.as_deref(), Some("STSv1"));
    absent(&pol(GOOD_POLICY).diagnostics, "POL001", GOOD_POLICY);
    let r = parse_policy(
        b"version: STSv1\r\nmode: none\r\nmax_age: 86400\r\nx: \xff\r\n",
        None,
    );
    fires(&r.diagnostics, "POL001", Severity::Error, "invalid UTF-8");
}

#[test]
fn rfc8461_3_2_version_is_exactly_stsv1() {
    for v in ["version: STSv2", "version: stsv1", "version: ", "versions: STSv1"] {
        let body = policy_with(&[v, "mode: enforce", "mx: mail.example.com", "max_age: 604800"]);
        fires(&pol(&body).diagnostics, "POL002", Severity::Error, &body);
    }
    absent(&pol(GOOD_POLICY).diagnostics, "POL002", GOOD_POLICY);
}

#[test]
fn rfc8461_5_mode_is_testing_enforce_or_none() {
    for m in ["mode: report", "mode: Enforce", "mode:", "modes: enforce"] {
        let body = policy_with(&["version: STSv1", m, "mx: mail.example.com", "max_age: 604800"]);
        fires(&pol(&body).diagnostics, "POL003", Severity::Error, &body);
    }
    let r = pol(&policy_with(&[
        "version: STSv1",
        "mode: report",
        "mx: a.example",
        "max_age: 604800",
    ]));
    assert_eq!(r.policy.mode, Some(Mode::Other("report".into())));
    for m in ["mode: testing", "mode: enforce", "mode: none"] {
        let body = policy_with(&["version: STSv1", m, "mx: mail.example.com", "max_age: 604800"]);
        absent(&pol(&body).diagnostics, "POL003", &body);
    }
}

#[test]
fn eid_7282_max_age_is_digits_and_capped_numerically() {
    for a in [
        "max_age: 1w",
        "max_age: +86400",
        "max_age: 86_400",
        "max_age: -1",
        "max_age: 31557601",
        "max_age: 99999999999",
        "max_age:",
        "max_age: 8640\u{0}0",
    ] {
        let body = policy_with(&["version: STSv1", "mode: enforce", "mx: mail.example.com", a]);
        fires(&pol(&body).diagnostics, "POL004", Severity::Error, &body);
    }
    let body = policy_with(&["version: STSv1", "mode: enforce", "mx: mail.example.com"]);
    fires(&pol(&body).diagnostics, "POL004", Severity::Error, "missing");
    for a in ["max_age: 31557600", "max_age: 0031557600"] {
        let body = policy_with(&["version: STSv1", "mode: enforce", "mx: mail.example.com", a]);
        let r = pol(&body);
        absent(&r.diagnostics, "POL004", &body);
        assert_eq!(r.policy.max_age, Some(31_557_600));
    }
}

#[test]
fn rfc8461_3_2_testing_and_enforce_need_an_mx() {
    let body = "version: STSv1\r\nmode: enforce\r\nmax_age: 604800\r\n";
    fires(&pol(body).diagnostics, "POL005", Severity::Error, body);
    let body = "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n";
    let r = pol(body);
    absent(&r.diagnostics, "POL005", body);
    assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
}

#[test]
fn rfc8461_3_2_mx_is_optional_wildcard_then_domain() {
    for mx in [
        "mail.example.com.",
        ".example.net",
        "*.*.example.com",
        "mx1.example.com:25",
        "m\u{e4}il.example.de",
        "*",
        "*.",
        "mail*.example.com",
        "mx_1.example.com",
        "192.0.2.1",
        "[192.0.2.1]",
        "2001:db8::1",
        "https://mail.example.com",
        "mail.example.com mx2.example.com",
        "-mail.example.com",
        "a..example.com",
        "postmaster@example.com",
        "",
    ] {
        let body = policy_with(&[
            "version: STSv1",
            "mode: enforce",
            &format!("mx: {mx}"),
            "max_age: 604800",
        ]);
        let r = pol(&body);
        fires(&r.diagnostics, "POL006", Severity::Error, &body);
        assert!(!r.policy.mx[0].valid);
    }
    for mx in [
        "mail.example.com",
        "*.example.net",
        "xn--mil-sna.example.de",
        "mx-1.example.com",
        "localhost",
    ] {
        let body = policy_with(&[
            "version: STSv1",
            "mode: enforce",
            &format!("mx: {mx}"),
            "max_age: 604800",
        ]);
        absent(&pol(&body).diagnostics, "POL006", &body);
    }
}

#[test]
fn rfc8461_3_2_terminators_are_lf_or_crlf() {
    let cr = GOOD_POLICY.replace("\r\n", "\r");
    let ls = GOOD_POLICY.replacen("\r\n", "\u{2028}", 1);
    let nul = GOOD_POLICY.replace("mode: enforce", "mode: enforce\u{0}");
    let esc = GOOD_POLICY.replace("mx: mail", "mx: \u{1b}mail");
    for body in [cr.as_str(), ls.as_str(), nul.as_str(), esc.as_str()] {
        fires(&pol(body).diagnostics, "POL007", Severity::Error, body);
    }
    let mixed = GOOD_POLICY.replacen("\r\n", "\n", 1);
    for body in [GOOD_POLICY, mixed.as_str()] {
        absent(&pol(body).diagnostics, "POL007", body);
    }
}

#[test]
fn rfc8461_3_2_keys_are_exact_and_unindented() {
    for line in [
        " mode: enforce",
        "\tmode: enforce",
        "mode : enforce",
        "Mode: enforce",
        "MODE: enforce",
        "mode: enforce\u{a0}",
        "mode: enforce\u{200b}",
        "mode:\u{3000}enforce",
        "mo de: enforce",
    ] {
        let body = policy_with(&["version: STSv1", line, "mx: mail.example.com", "max_age: 604800"]);
        fires(&pol(&body).diagnostics, "POL008", Severity::Error, &body);
    }
    // Recovery: the intended key and value are still read.
    let body = policy_with(&[
        "version: STSv1",
        "Mode: enforce\u{a0}",
        "mx: a.example.com",
        "max_age: 604800",
    ]);
    assert_eq!(pol(&body).policy.mode, Some(Mode::Enforce));
    for line in [
        "mode:enforce",
        "mode: enforce \t",
        "mode:\t enforce",
        "Owner: ops",
    ] {
        let body = policy_with(&["version: STSv1", line, "mx: mail.example.com", "max_age: 604800"]);
        absent(&pol(&body).diagnostics, "POL008", &body);
    }
}

#[test]
fn rfc8461_3_2_blank_lines_and_comments_are_outside_the_grammar() {
    let comment = format!("# MTA-STS\r\n{GOOD_POLICY}");
    let blank = GOOD_POLICY.replacen("\r\n", "\r\n\r\n", 1);
    let double = format!("{GOOD_POLICY}\r\n");
    let double_lf = format!("{}\n", GOOD_POLICY.replace("\r\n", "\n"));
    for body in [
        comment.as_str(),
        blank.as_str(),
        double.as_str(),
        double_lf.as_str(),
    ] {
        let r = pol(body);
        fires(&r.diagnostics, "POL009", Severity::Warning, body);
        assert_eq!(r.policy.mode, Some(Mode::Enforce), "{body:?}");
    }
    let no_final = GOOD_POLICY.trim_end();
    for body in [GOOD_POLICY, no_final] {
        absent(&pol(body).diagnostics, "POL009", body);
    }
}

#[test]
fn rfc8461_3_2_repeated_fields_first_wins() {
    let body = policy_with(&[
        "version: STSv1",
        "mode: enforce",
        "mx: a.example.com",
        "max_age: 604800",
        "mode: testing",
    ]);
    let r = pol(&body);
    fires(&r.diagnostics, "POL010", Severity::Warning, &body);
    assert_eq!(r.policy.mode, Some(Mode::Enforce));
    let body = policy_with(&[
        "version: STSv1",
        "version: STSv1",
        "mode: enforce",
        "mx: a.example.com",
        "max_age: 1",
    ]);
    fires(&pol(&body).diagnostics, "POL010", Severity::Warning, &body);
    let body = policy_with(&[
        "version: STSv1",
        "mode: enforce",
        "mx: a.example.com",
        "max_age: 604800",
        "max_age: 1",
    ]);
    let r = pol(&body);
    fires(&r.diagnostics, "POL010", Severity::Warning, &body);
    assert_eq!(r.policy.max_age, Some(604800));
    // mx repeats by design.
    let body = policy_with(&[
        "version: STSv1",
        "mode: enforce",
        "mx: a.example.com",
        "mx: b.example.com",
        "max_age: 604800",
    ]);
    let r = pol(&body);
    absent(&r.diagnostics, "POL010", &body);
    assert_eq!(r.policy.mx.len(), 2);
}

#[test]
fn rfc8461_3_2_interoperability_style_is_info() {
    let late = policy_with(&[
        "mode: enforce",
        "version: STSv1",
        "mx: a.example.com",
        "max_age: 604800",
    ]);
    let dup = policy_with(&[
        "version: STSv1",
        "mode: enforce",
        "mx: a.example.com",
        "mx: A.example.com",
        "max_age: 604800",
    ]);
    let upper = policy_with(&[
        "version: STSv1",
        "mode: enforce",
        "mx: MX.example.com",
        "max_age: 604800",
    ]);
    for body in [late.as_str(), dup.as_str(), upper.as_str()] {
        let r = pol(body);
        fires(&r.diagnostics, "POL011", Severity::Info, body);
        assert!(
            r.diagnostics.iter().all(|d| d.severity == Severity::Info),
            "{body:?}"
        );
    }
    absent(&pol(GOOD_POLICY).diagnostics, "POL011", GOOD_POLICY);
}

#[test]
fn rfc8461_10_2_max_age_should_be_long() {
    for (mode, age, sev) in [
        ("enforce", "3600", Severity::Warning),
        ("testing", "0", Severity::Warning),
        ("enforce", "86400", Severity::Info),
        ("enforce", "604799", Severity::Info),
    ] {
        let body = policy_with(&[
            "version: STSv1",
            &format!("mode: {mode}"),
            "mx: a.example.com",
            &format!("max_age: {age}"),
        ]);
        fires(&pol(&body).diagnostics, "POL012", sev, &body);
    }
    for (mode, age) in [("enforce", "604800"), ("testing", "86400"), ("none", "86400")] {
        let body = policy_with(&[
            "version: STSv1",
            &format!("mode: {mode}"),
            "mx: a.example.com",
            &format!("max_age: {age}"),
        ]);
        absent(&pol(&body).diagnostics, "POL012", &body);
    }
}

#[test]
fn rfc8461_8_3_mode_none_should_expire_soon() {
    let body = policy_with(&["version: STSv1", "mode: none", "max_age: 31557600"]);
    fires(&pol(&body).diagnostics, "POL013", Severity::Warning, &body);
    for (mode, age) in [("none", "86400"), ("enforce", "31557600")] {
        let body = policy_with(&[
            "version: STSv1",
            &format!("mode: {mode}"),
            "mx: a.example.com",
            &format!("max_age: {age}"),
        ]);
        absent(&pol(&body).diagnostics, "POL013", &body);
    }
}

#[test]
fn rfc8461_10_4_wildcards_must_not_be_too_broad() {
    for (mx, sev) in [
        ("*.com", Severity::Error),
        ("*.co.uk", Severity::Error),
        ("*.example.com", Severity::Info),
    ] {
        let body = policy_with(&[
            "version: STSv1",
            "mode: enforce",
            &format!("mx: {mx}"),
            "max_age: 604800",
        ]);
        fires(&pol(&body).diagnostics, "POL014", sev, &body);
    }
    // A parent of the policy domain covers its namespace too.
    let body = policy_with(&[
        "version: STSv1",
        "mode: enforce",
        "mx: *.example.com",
        "max_age: 604800",
    ]);
    let r = parse_policy(body.as_bytes(), Some("Mail.Example.com."));
    fires(&r.diagnostics, "POL014", Severity::Info, "parent");
    for mx in [
        "*.mx.example.com",
        "*.example.net",
        "mail.co.uk",
        "*.example.co.uk",
    ] {
        let body = policy_with(&[
            "version: STSv1",
            "mode: enforce",
            &format!("mx: {mx}"),
            "max_age: 604800",
        ]);
        absent(&pol(&body).diagnostics, "POL014", &body);
    }
    // Without a policy domain only the public-suffix half applies.
    let body = policy_with(&[
        "version: STSv1",
        "mode: enforce",
        "mx: *.example.com",
        "max_age: 604800",
    ]);
    absent(&parse_policy(body.as_bytes(), None).diagnostics, "POL014", &body);
}

#[test]
fn rfc8461_3_2_unknown_keys_are_ignored_with_info() {
    let body = format!("{GOOD_POLICY}owner: ops\r\n");
    let r = pol(&body);
    fires(&r.diagnostics, "STS010", Severity::Info, &body);
    assert_eq!(r.policy.extensions[0].name, "owner");
    absent(&pol(GOOD_POLICY).diagnostics, "STS010", GOOD_POLICY);
}

#[test]
fn rfc8461_3_3_body_is_read_up_to_64_kib() {
    let mut body = GOOD_POLICY.to_owned();
    while body.len() <= 70 * 1024 {
        body.push_str("x-padding: 0123456789abcdef0123456789abcdef0123456789abcdef\r\n");
    }
    let r = pol(&body);
    fires(&r.diagnostics, "NET006", Severity::Warning, "70 KiB");
    assert!(r.diagnostics.len() < 40, "{}", r.diagnostics.len());
    absent(&pol(GOOD_POLICY).diagnostics, "NET006", GOOD_POLICY);
}

#[test]
fn many_short_lines_stay_cheap_and_bounded() {
    let body = "mx: a.example\n".repeat(64 * 1024 / 14);
    let r = pol(&body);
    fires(&r.diagnostics, "POL011", Severity::Info, "duplicate mx");
    assert!(r.diagnostics.len() < 40, "{}", r.diagnostics.len());
    let body = "owner: x\n".repeat(64 * 1024 / 9);
    assert!(pol(&body).policy.extensions.len() == 1);
}

#[test]
fn rfc8461_4_1_wildcard_matches_exactly_one_label() {
    for (pattern, host, expected) in [
        ("mail.example.com", "mail.example.com", true),
        ("mail.example.com", "MAIL.Example.COM.", true),
        ("Mail.Example.com", "mail.example.com", true),
        ("*.example.com", "mail.example.com", true),
        ("*.example.com", "mail.example.com.", true),
        ("*.Example.com", "MX.EXAMPLE.COM", true),
        ("*.example.com", "example.com", false),
        ("*.example.com", "a.b.example.com", false),
        ("*.example.com", ".example.com", false),
        ("*.example.com", "mail.example.net", false),
        ("mail.example.com", "mail.example.com..", false),
        ("mail.example.com", "mx.example.com", false),
        ("*", "example", false),
        ("*.", "a.", false),
        ("", "", false),
        ("*.*.example.com", "a.b.example.com", false),
    ] {
        assert_eq!(mx_matches(pattern, host), expected, "{pattern:?} vs {host:?}");
    }
}

// ---------------------------------------------------------------- hostile input

const FRAGMENTS: &[&str] = &[
    "version",
    "mode",
    "max_age",
    "mx",
    ":",
    " ",
    "\t",
    "\r\n",
    "\n",
    "\r",
    "STSv1",
    "enforce",
    "none",
    "*.",
    ".",
    "example",
    "com",
    "0",
    "31557601",
    "#",
    "\u{feff}",
    "\u{a0}",
    "\u{2028}",
    "v=STSv1",
    ";",
    "id=",
    "=",
    "v=TLSRPTv1",
    "rua=",
    "mailto:",
    "https://",
    "@",
    ",",
    "!10m",
    "\"",
    "\\",
    "\\0",
    "é",
];

fn fragments() -> impl Strategy<Value = String> {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..48).prop_map(|v| v.concat())
}

proptest! {
    // 512 cases in CI; `PROPTEST_CASES=100000` for a long run.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
    ))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let _ = parse_policy(&bytes, Some("example.com"));
        let _ = parse_sts_records(&[vec![bytes.clone()]]);
        let _ = parse_tlsrpt_records(&[vec![bytes.clone()], vec![bytes.clone(), bytes.clone()]]);
        let _ = parse_presentation(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>(), host in any::<String>()) {
        let _ = parse_policy(text.as_bytes(), Some(&host));
        let strings = parse_presentation(&text);
        let _ = parse_sts_records(std::slice::from_ref(&strings));
        let _ = parse_tlsrpt_records(&[strings]);
        let _ = mx_matches(&text, &host);
    }

    #[test]
    fn grammar_shaped_input_never_panics(a in fragments(), b in fragments()) {
        let _ = parse_policy(a.as_bytes(), Some(&b));
        let _ = parse_policy(a.as_bytes(), None);
        let joined = vec![a.as_bytes().to_vec(), b.as_bytes().to_vec()];
        let _ = parse_sts_records(&[joined.clone(), parse_presentation(&a)]);
        let _ = parse_tlsrpt_records(&[joined, parse_presentation(&b)]);
        let _ = mx_matches(&a, &b);
    }
}
