//! The daily digest: aggregation, trend, findings, rendering and the pipeline
//! over a store and a mailer.
//!
//! Golden outputs for a fixture day live in `tests/fixtures/digest/`; run with
//! `STSGUARD_BLESS=1` to rewrite them after a deliberate change, then review
//! the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use stsguard::digest::run::{aggregate, run, RunConfig, Sending};
use stsguard::digest::{render, Aggregator, DigestConfig, FindingCode, Status};
use stsguard::keys::Layout;
use stsguard::mailer::RecordingMailer;
use stsguard::report::{
    report_key_id, Failure, NormalizedReport, ReportPolicy, Source, Warning, WarningCode,
};
use stsguard::store::{MemoryStore, ObjectStore};

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 9, 6, 0, 0).unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

/// One failure detail: (result type, count, receiving MX, sending IP, receiving IP).
type Detail<'a> = (&'a str, u64, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn policy(kind: &str, mode: Option<&str>, ok: u64, failed: u64, details: &[Detail]) -> ReportPolicy {
    ReportPolicy {
        policy_type: kind.into(),
        policy_domain: None,
        policy_strings: Vec::new(),
        mx_hosts: Vec::new(),
        sts: mode.map(|m| stsguard::report::sts::StsSummary {
            mode: Some(m.into()),
            max_age: Some(604800),
            mx: vec!["*.example.com".into()],
        }),
        successful: ok,
        failed,
        failures: details
            .iter()
            .map(|(t, n, mx, sip, rip)| Failure {
                result_type: (*t).into(),
                known: true,
                count: *n,
                sending_mta_ip: sip.map(Into::into),
                receiving_mx_hostname: mx.map(Into::into),
                receiving_mx_helo: None,
                receiving_ip: rip.map(Into::into),
                additional_information: None,
                failure_reason_code: None,
            })
            .collect(),
    }
}

fn report(d: &str, domain: &str, org: &str, policies: Vec<ReportPolicy>) -> NormalizedReport {
    let report_id = format!("{d}_{domain}_{org}");
    NormalizedReport {
        schema: "stsguard/report/v1".into(),
        id: report_key_id(org, &report_id),
        report_id,
        organization: org.into(),
        contact_info: None,
        start: format!("{d}T00:00:00Z"),
        end: format!("{d}T23:59:59Z"),
        day: d.into(),
        domain: domain.into(),
        other_domains: Vec::new(),
        policies,
        source: Source {
            channel: "ses".into(),
            compression: "gzip".into(),
            verdicts: stsguard::report::Verdicts {
                dkim: Some("pass".into()),
                ..Default::default()
            },
            ..Source::default()
        },
        warnings: Vec::new(),
    }
}

async fn put(store: &MemoryStore, r: &NormalizedReport) {
    let key = Layout::default().report_key(&r.day, &r.domain, &r.id);
    store
        .put_if_absent(&key, serde_json::to_vec(r).unwrap())
        .await
        .unwrap();
}

fn config() -> RunConfig {
    RunConfig {
        digest: DigestConfig {
            domains: vec!["example.com".into(), "quiet.example.org".into()],
            ..DigestConfig::default()
        },
        from: "tls-digest@example.com".into(),
        to: vec!["mail-team@example.com".into(), "sre@example.com".into()],
        ..RunConfig::default()
    }
}

/// A week of history and the fixture day 2024-11-08:
/// * example.com (enforce): a steady week with a few `starttls-not-supported`,
///   then `certificate-expired` on one MX (new) from Google;
/// * shop.example.net (testing): quiet week, then policy fetch errors from a
///   Microsoft-style report without MX or IP details (a jump);
/// * ok.example: all good, one report needed tolerances and had no DKIM pass;
/// * quiet.example.org: configured, silent.
fn fixture_store() -> MemoryStore {
    let store = MemoryStore::new();
    block_on(async {
        for n in 1..=7 {
            let d = format!("2024-11-0{n}");
            put(
                &store,
                &report(
                    &d,
                    "example.com",
                    "Google LLC",
                    vec![policy(
                        "sts",
                        Some("enforce"),
                        12_000 + n * 10,
                        2,
                        &[(
                            "starttls-not-supported",
                            2,
                            Some("mx2.example.com"),
                            Some("209.85.220.41"),
                            Some("198.51.100.26"),
                        )],
                    )],
                ),
            )
            .await;
            put(
                &store,
                &report(
                    &d,
                    "shop.example.net",
                    "Microsoft Corporation",
                    vec![policy(
                        "sts",
                        Some("testing"),
                        500,
                        1,
                        &[("sts-policy-fetch-error", 1, None, None, None)],
                    )],
                ),
            )
            .await;
        }
        let d = "2024-11-08";
        put(
            &store,
            &report(
                d,
                "example.com",
                "Google LLC",
                vec![policy(
                    "sts",
                    Some("enforce"),
                    10_000,
                    80,
                    &[
                        (
                            "certificate-expired",
                            78,
                            Some("mx1.example.com"),
                            Some("209.85.220.41"),
                            Some("198.51.100.25"),
                        ),
                        (
                            "certificate-expired",
                            2,
                            Some("mx1.example.com"),
                            Some("209.85.220.69"),
                            Some("198.51.100.25"),
                        ),
                    ],
                )],
            ),
        )
        .await;
        put(
            &store,
            &report(
                d,
                "example.com",
                "Microsoft Corporation",
                vec![policy(
                    "sts",
                    Some("enforce"),
                    3_000,
                    5,
                    &[("starttls-not-supported", 5, Some("mx2.example.com"), None, None)],
                )],
            ),
        )
        .await;
        put(
            &store,
            &report(
                d,
                "shop.example.net",
                "Microsoft Corporation",
                vec![policy(
                    "sts",
                    Some("testing"),
                    400,
                    120,
                    &[("sts-policy-fetch-error", 120, None, None, None)],
                )],
            ),
        )
        .await;
        let mut odd = report(
            d,
            "ok.example",
            "Mail.Ru",
            vec![policy("no-policy-found", None, 250, 0, &[])],
        );
        odd.warnings = vec![
            Warning {
                code: WarningCode::MxHostString,
                message: "mx-host was a string".into(),
            },
            Warning {
                code: WarningCode::Unauthenticated,
                message: "no passing DKIM signature (none)".into(),
            },
        ];
        put(&store, &odd).await;
        put(
            &store,
            &report(
                d,
                "ok.example",
                "Google LLC",
                vec![policy("sts", Some("enforce"), 1_000, 0, &[])],
            ),
        )
        .await;

        // The week's digests, made by the pipeline itself.
        let mailer = RecordingMailer::new();
        for n in 1..=7 {
            run(
                &store,
                &mailer,
                &config(),
                day(&format!("2024-11-0{n}")),
                now(),
                false,
            )
            .await
            .unwrap();
        }
        assert!(mailer.sent().is_empty());
    });
    store
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/digest")
        .join(name);
    if std::env::var_os("STSGUARD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with STSGUARD_BLESS=1 to create it)", path.display()));
    assert!(
        expected == actual,
        "{name} differs from {}; diff it after STSGUARD_BLESS=1",
        path.display()
    );
}

#[test]
fn fixture_day_matches_the_golden_text_html_and_json() {
    let store = fixture_store();
    let out = block_on(run(
        &store,
        &RecordingMailer::new(),
        &config(),
        day("2024-11-08"),
        now(),
        false,
    ))
    .unwrap();
    golden("2024-11-08.txt", &out.text);
    golden("2024-11-08.html", &out.html);
    golden("2024-11-08.json", &render::json(&out.digest));
    assert_eq!(out.history_days, 7);
    assert_eq!(out.listed, 5);
}

#[test]
fn fixture_day_says_what_matters() {
    let store = fixture_store();
    let (d, _, _) = block_on(aggregate(&store, &config(), day("2024-11-08"))).unwrap();
    assert_eq!(d.schema, "stsguard/digest/v1");
    assert_eq!(d.day, "2024-11-08");
    let names: Vec<&str> = d.domains.iter().map(|x| x.domain.as_str()).collect();
    assert_eq!(
        names,
        [
            "example.com",
            "ok.example",
            "quiet.example.org",
            "shop.example.net"
        ]
    );
    assert_eq!(d.totals.reports, 5);
    assert_eq!(d.totals.successful, 10_000 + 3_000 + 400 + 250 + 1_000);
    assert_eq!(d.totals.failed, 205);
    assert_eq!(d.totals.needs_attention, 3);
    assert_eq!(d.totals.unauthenticated_reports, 1);
    assert_eq!(d.totals.reports_with_warnings, 1);

    let ex = &d.domains[0];
    assert_eq!(ex.status, Status::Attention);
    assert_eq!(ex.result_types["certificate-expired"], 80);
    assert_eq!(ex.result_types["starttls-not-supported"], 5);
    assert_eq!(ex.trend.new_result_types, ["certificate-expired"]);
    assert!(
        !ex.trend.failure_rate_jump,
        "0.6% failures is below the 5-point threshold"
    );
    assert_eq!(ex.organizations[0].name, "Google LLC");
    assert_eq!(
        (ex.organizations[0].successful, ex.organizations[0].failed),
        (10_000, 80)
    );
    assert_eq!(ex.receiving_mx_hosts[0].value, "mx1.example.com");
    assert_eq!(ex.receiving_mx_hosts[0].failed, 80);
    assert_eq!(ex.sending_ips[0].value, "209.85.220.41");
    assert_eq!(ex.sts_modes["enforce"], 2);
    assert_eq!(ex.trend.history.len(), 8);
    let expect_prev = 100.0 * 12_070.0 / 12_072.0;
    let got = ex.trend.change_vs_previous_day.unwrap();
    let want = ex.success_rate.unwrap() - (expect_prev * 1000.0_f64).round() / 1000.0;
    assert!((got - want).abs() < 0.002, "{got} vs {want}");
    assert!(ex.findings.iter().any(|f| f.code == FindingCode::NewResultType));

    let ok = &d.domains[1];
    assert_eq!(ok.status, Status::Ok);
    assert_eq!(ok.policy_types["no-policy-found"], 1);
    assert!(ok.findings.iter().any(|f| f.code == FindingCode::Unauthenticated));
    assert!(ok.findings.iter().any(|f| f.code == FindingCode::ReportWarnings));
    assert!(ok.trend.new_result_types.is_empty());

    let quiet = &d.domains[2];
    assert_eq!(quiet.status, Status::NoReports);
    assert_eq!(quiet.findings[0].code, FindingCode::NoReports);
    assert!(quiet.findings[0].message.contains("_smtp._tls.quiet.example.org"));

    let shop = &d.domains[3];
    assert!(shop.trend.failure_rate_jump);
    assert!(shop
        .findings
        .iter()
        .any(|f| f.code == FindingCode::FailureRateJump));
    assert!(
        shop.trend.new_result_types.is_empty(),
        "fetch errors happened all week"
    );
    assert!(shop.receiving_mx_hosts.is_empty(), "the reports named no MX");
}

#[test]
fn subject_summarizes_the_day() {
    let store = fixture_store();
    let (d, _, _) = block_on(aggregate(&store, &config(), day("2024-11-08"))).unwrap();
    assert_eq!(
        render::subject(&d),
        "TLS report digest 2024-11-08: 4 domains, 98.6% TLS success, 3 need attention"
    );
}

#[test]
fn a_quiet_day_without_history_or_domains() {
    let store = MemoryStore::new();
    let (d, listed, history) = block_on(aggregate(&store, &RunConfig::default(), day("2024-11-08"))).unwrap();
    assert_eq!((listed, history), (0, 0));
    assert!(d.domains.is_empty());
    assert_eq!(d.totals.success_rate, None);
    assert_eq!(
        render::subject(&d),
        "TLS report digest 2024-11-08: 0 domains, no sessions reported, all clear"
    );
    assert!(render::text(&d).contains("No reports and no configured domains"));
}

#[test]
fn the_mail_has_text_html_and_the_charts_it_refers_to() {
    let store = fixture_store();
    let mailer = RecordingMailer::new();
    let out = block_on(run(&store, &mailer, &config(), day("2024-11-08"), now(), true)).unwrap();
    assert!(matches!(out.sending, Sending::Sent(_)));
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].from, "tls-digest@example.com");
    assert_eq!(sent[0].to, ["mail-team@example.com", "sre@example.com"]);
    assert_eq!(sent[0].raw, out.eml);

    let msg = mail_parser::MessageParser::default().parse(&sent[0].raw).unwrap();
    assert_eq!(
        msg.subject(),
        Some("TLS report digest 2024-11-08: 4 domains, 98.6% TLS success, 3 need attention")
    );
    assert_eq!(msg.date().unwrap().to_rfc3339(), "2024-11-09T06:00:00Z");
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("certificate-expired 80 (new)"), "{text}");
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("cid:chart-1.2024-11-08@stsguard"));
    // Every domain with data has a chart; each is a PNG whose Content-ID the HTML names.
    let images: Vec<_> = msg
        .parts
        .iter()
        .filter(|p| {
            use mail_parser::MimeHeaders;
            p.content_type().is_some_and(|c| c.ctype() == "image")
        })
        .collect();
    assert_eq!(images.len(), 3, "example.com, ok.example, shop.example.net");
    for img in images {
        use mail_parser::MimeHeaders;
        let cid = img.content_id().unwrap();
        assert!(html.contains(&format!("cid:{cid}")), "{cid}");
        assert!(img.contents().starts_with(b"\x89PNG\r\n\x1a\n"));
    }
    // The stored page carries its charts inline instead, whole.
    let uris: Vec<&str> = out
        .html
        .split("src=\"data:image/png;base64,")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(uris.len(), 3);
    for b64 in uris {
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(png.ends_with(b"IEND\xaeB`\x82"), "a whole PNG");
    }
    let stored = block_on(store.get("digests/day=2024-11-08.eml"))
        .unwrap()
        .unwrap();
    assert_eq!(stored, out.eml);
    assert!(block_on(store.get("digests/day=2024-11-08.sent"))
        .unwrap()
        .is_some());
}

#[test]
fn a_retry_after_sending_does_not_send_twice() {
    let store = fixture_store();
    let mailer = RecordingMailer::new();
    let first = block_on(run(&store, &mailer, &config(), day("2024-11-08"), now(), true)).unwrap();
    assert!(matches!(first.sending, Sending::Sent(_)));
    let again = block_on(run(&store, &mailer, &config(), day("2024-11-08"), now(), true)).unwrap();
    assert_eq!(again.sending, Sending::AlreadySent);
    assert_eq!(mailer.sent().len(), 1);
    // Another day is sent on its own.
    block_on(run(&store, &mailer, &config(), day("2024-11-07"), now(), true)).unwrap();
    assert_eq!(mailer.sent().len(), 2);
}

#[test]
fn a_rerun_replaces_the_stored_digest_with_late_reports() {
    let store = fixture_store();
    let mailer = RecordingMailer::new();
    block_on(run(&store, &mailer, &config(), day("2024-11-08"), now(), false)).unwrap();
    block_on(put(
        &store,
        &report(
            "2024-11-08",
            "late.example",
            "Late Org",
            vec![policy("sts", Some("enforce"), 9, 0, &[])],
        ),
    ));
    block_on(run(&store, &mailer, &config(), day("2024-11-08"), now(), false)).unwrap();
    let stored = block_on(store.get("digests/day=2024-11-08.json"))
        .unwrap()
        .unwrap();
    let d: stsguard::digest::Digest = serde_json::from_slice(&stored).unwrap();
    assert_eq!(d.totals.reports, 6);
    assert!(d.domains.iter().any(|x| x.domain == "late.example"));
}

#[test]
fn hostile_report_text_stays_inert_in_html_text_and_headers() {
    let store = MemoryStore::new();
    let evil_org = "<script>alert(1)</script>\r\nBcc: victim@evil.example\x1b[31m";
    let evil_type = "<img src=x onerror=alert(1)>";
    let long_mx = format!("{}.example.com", "a".repeat(3000));
    block_on(put(
        &store,
        &report(
            "2024-11-08",
            "example.com",
            evil_org,
            vec![policy(
                "sts\"><marquee>",
                Some("enforce<i>"),
                1,
                3,
                &[(
                    evil_type,
                    3,
                    Some(&long_mx),
                    Some("1.2.3.4\r\nX: y"),
                    Some("<b>ip</b>"),
                )],
            )],
        ),
    ));
    let mailer = RecordingMailer::new();
    let out = block_on(run(&store, &mailer, &config(), day("2024-11-08"), now(), true)).unwrap();
    for raw in ["<script", "<img src=x", "<b>ip", "<i>", "<marquee"] {
        assert!(!out.html.contains(raw), "{raw} reached the HTML");
    }
    assert!(out.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !out.text.contains('\r') && !out.text.contains('\x1b'),
        "control characters in the text"
    );
    assert!(out.text.contains("\\u{d}\\u{a}Bcc"));
    assert!(!out.text.contains(&long_mx), "long values are cut");
    let sent = &mailer.sent()[0];
    let header_end = sent.raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let headers = std::str::from_utf8(&sent.raw[..header_end]).unwrap();
    assert!(!headers.contains("victim"), "{headers}");
    assert!(!headers.contains("Bcc"), "{headers}");
    assert_eq!(headers.lines().filter(|l| l.starts_with("To:")).count(), 1);
    let msg = mail_parser::MessageParser::default().parse(&sent.raw).unwrap();
    assert!(msg.bcc().is_none());
}

#[test]
fn unreadable_objects_are_counted_not_fatal() {
    let store = fixture_store();
    block_on(async {
        store
            .put_if_absent(
                "reports/v1/day=2024-11-08/domain=x/broken.json",
                b"{\"schema\":".to_vec(),
            )
            .await
            .unwrap();
        store
            .put_if_absent(
                "reports/v1/day=2024-11-08/domain=x/future.json",
                br#"{"schema":"stsguard/report/v9","domain":"x","organization":"o","policies":[]}"#.to_vec(),
            )
            .await
            .unwrap();
        store
            .put_if_absent(
                "reports/v1/day=2024-11-08/domain=x/notes.txt",
                b"ignored".to_vec(),
            )
            .await
            .unwrap();
    });
    let (d, listed, _) = block_on(aggregate(&store, &config(), day("2024-11-08"))).unwrap();
    assert_eq!(listed, 7);
    assert_eq!(d.totals.unreadable_objects, 2);
    assert_eq!(d.totals.reports, 5);
    assert!(render::text(&d).contains("2 stored objects of the day could not be read"));
}

#[test]
fn failure_jump_threshold_is_configurable_and_needs_enough_sessions() {
    let mk = |jump: f64, min: u64, ok: u64, failed: u64| {
        let mut agg = Aggregator::new(day("2024-11-02"));
        let r = report(
            "2024-11-02",
            "a.example",
            "O",
            vec![policy(
                "sts",
                None,
                ok,
                failed,
                &[("validation-failure", failed, None, None, None)],
            )],
        );
        agg.add_json(&serde_json::to_vec(&r).unwrap()).unwrap();
        let mut prev = Aggregator::new(day("2024-11-01"));
        let p = report(
            "2024-11-01",
            "a.example",
            "O",
            vec![policy("sts", None, 1000, 0, &[])],
        );
        prev.add_json(&serde_json::to_vec(&p).unwrap()).unwrap();
        let cfg = DigestConfig {
            failure_jump_points: jump,
            min_sessions_for_jump: min,
            ..DigestConfig::default()
        };
        let prev = prev.finish(&cfg, &[]);
        agg.finish(&cfg, &[prev]).domains[0].trend.failure_rate_jump
    };
    assert!(mk(5.0, 20, 90, 10), "10% vs 0% is a jump");
    assert!(!mk(15.0, 20, 90, 10), "not above a 15-point threshold");
    assert!(!mk(5.0, 20, 9, 1), "10 sessions are too few");
    assert!(!mk(5.0, 20, 96, 4), "4 points is below 5");
}

#[test]
fn history_outside_the_window_is_ignored_and_new_types_need_history() {
    let r = report(
        "2024-11-20",
        "a.example",
        "O",
        vec![policy(
            "sts",
            None,
            5,
            1,
            &[("tlsa-invalid", 1, None, None, None)],
        )],
    );
    let json = serde_json::to_vec(&r).unwrap();
    let mut old = Aggregator::new(day("2024-11-01"));
    old.add_json(&json).unwrap();
    let old = old.finish(&DigestConfig::default(), &[]);
    let mut agg = Aggregator::new(day("2024-11-20"));
    agg.add_json(&json).unwrap();
    let d = agg.finish(&DigestConfig::default(), std::slice::from_ref(&old));
    // 19 days back is outside the 13-day window: no history, so nothing is "new".
    assert_eq!(d.domains[0].trend.history.len(), 1);
    assert!(d.domains[0].trend.new_result_types.is_empty());
    assert_eq!(d.domains[0].trend.average_7d, None);

    let mut recent = Aggregator::new(day("2024-11-19"));
    recent
        .add_json(&serde_json::to_vec(&report("2024-11-19", "b.example", "O", vec![])).unwrap())
        .unwrap();
    let recent = recent.finish(&DigestConfig::default(), &[]);
    let mut agg = Aggregator::new(day("2024-11-20"));
    agg.add_json(&json).unwrap();
    let d = agg.finish(&DigestConfig::default(), &[old, recent]);
    assert_eq!(d.domains[0].trend.new_result_types, ["tlsa-invalid"]);
    assert_eq!(
        d.domains[0].trend.history.len(),
        2,
        "the day before shows as a zero day"
    );
}

/// Every normalized report of the corpus goldens (real senders' shapes) goes
/// through the aggregate, and the sums match the reports'.
#[test]
fn corpus_reports_aggregate_with_matching_sums() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden");
    let mut agg = Aggregator::new(day("2024-11-08"));
    let (mut ok, mut failed, mut n) = (0u64, 0u64, 0u64);
    for sub in ["corpus", "mail"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
            for r in v["reports"].as_array().unwrap() {
                let report: NormalizedReport = serde_json::from_value(r["report"].clone()).unwrap();
                for p in &report.policies {
                    ok += p.successful;
                    failed += p.failed;
                }
                n += 1;
                agg.add_json(&serde_json::to_vec(&report).unwrap()).unwrap();
            }
        }
    }
    assert!(n >= 15, "only {n} golden reports found");
    let d = agg.finish(&DigestConfig::default(), &[]);
    assert_eq!(d.totals.reports, n);
    assert_eq!((d.totals.successful, d.totals.failed), (ok, failed));
    assert_eq!(d.totals.unreadable_objects, 0);
    // Rendering every shape works.
    assert!(render::text(&d).contains("TLS report digest 2024-11-08"));
    assert!(render::html_page(&d, &[]).ends_with("</html>\n"));
}
