//! The digest handler against real S3 and SES APIs: a local moto server reached
//! through the real AWS SDK. `.ci/run` starts the server (`.ci/moto.sh`) and
//! runs these tests by name with `--ignored`; locally:
//!
//! ```sh
//! eval "$(.ci/moto.sh start)"
//! cargo test -p stsguard-digest --test lambda endpoint -- --ignored
//! ```
//!
//! The sent mail is read back from moto's state (`/moto-api/data.json`,
//! `ses.RawMessage`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use stsguard::alerts::run::Silent;
use stsguard::ingest::{self, IngestConfig, InputContext, InputKind};
use stsguard::keys::Layout;
use stsguard::mailer::ses::SesMailer;
use stsguard::report::{report_key_id, NormalizedReport, ReportPolicy, Source};
use stsguard::store::s3::S3Store;
use stsguard::store::ObjectStore;
use stsguard_digest::{Config, Handler, HandlerError};

fn endpoint() -> String {
    stsguard_test_support::s3::endpoint()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 9, 6, 0, 3).unwrap()
}

async fn s3() -> aws_sdk_s3::Client {
    stsguard_test_support::s3::client().await
}

async fn ses() -> aws_sdk_ses::Client {
    stsguard_test_support::s3::ses().await
}

/// A fresh bucket and a sender address unique to this test.
async fn fresh(s3: &aws_sdk_s3::Client, tag: &str) -> (String, String) {
    let bucket = stsguard_test_support::s3::bucket(s3, &format!("digest-{tag}")).await;
    (bucket.clone(), format!("{bucket}@example.com"))
}

fn config(bucket: &str, from: &str) -> Config {
    let vars = [
        ("STSGUARD_BUCKET", bucket.to_owned()),
        ("STSGUARD_DIGEST_FROM", from.to_owned()),
        (
            "STSGUARD_DIGEST_TO",
            "mail-team@example.com,sre@example.com".to_owned(),
        ),
        ("STSGUARD_DOMAINS", "eden.one,quiet.example.org".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint()),
    ];
    Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).unwrap()
}

/// Every raw message moto's SES has accepted from `from`.
fn sent_by(from: &str) -> Vec<Value> {
    stsguard_test_support::s3::moto_state()["ses"]["RawMessage"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| {
            m["raw_data"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("From: {from}\r\n"))
        })
        .collect()
}

/// Ingests the bundled sample mails into the bucket with the ingest pipeline.
async fn ingest_samples(store: &S3Store) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let raw = std::fs::read(&path).unwrap();
        let ctx = InputContext {
            channel: "s3".into(),
            input: None,
            raw_key: Some(format!(
                "incoming/{}",
                path.file_name().unwrap().to_string_lossy()
            )),
            ..InputContext::default()
        };
        ingest::ingest(
            store,
            &raw,
            InputKind::Mail,
            &ctx,
            &IngestConfig::default(),
            now(),
        )
        .await
        .unwrap();
        n += 1;
    }
    assert!(n >= 5);
}

#[tokio::test]
#[ignore = "needs a local S3/SES endpoint: run by .ci/run"]
async fn ingested_samples_are_digested_and_mailed_through_ses() {
    let s3 = s3().await;
    let (bucket, from) = fresh(&s3, "mail").await;
    let store = S3Store::new(s3.clone(), bucket.clone(), "");
    ingest_samples(&store).await;

    let ses_client = ses().await;
    // SES refuses a sender it has not verified: the run fails, nothing is marked sent.
    let handler = Handler::new(
        store,
        SesMailer::new(ses_client.clone()),
        Silent,
        config(&bucket, &from),
    );
    let err = handler
        .handle(json!({"day": "2024-11-08"}), now())
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::Run { .. }), "{err}");
    let check = S3Store::new(s3.clone(), bucket.clone(), "");
    assert!(check
        .list("digests/day=2024-11-08.sent")
        .await
        .unwrap()
        .is_empty());
    assert!(sent_by(&from).is_empty());

    ses_client
        .verify_email_identity()
        .email_address(&from)
        .send()
        .await
        .unwrap();
    let resp = handler
        .handle(json!({"time": "2024-11-09T06:00:00Z"}), now())
        .await
        .unwrap();
    assert_eq!(resp.day, "2024-11-08");
    assert_eq!(resp.mail, "sent");
    assert_eq!(resp.reports, 1);
    assert_eq!(resp.domains, 2, "eden.one and the silent quiet.example.org");

    let sent = sent_by(&from);
    assert_eq!(sent.len(), 1);
    let dest: Vec<&str> = sent[0]["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        dest.contains(&"mail-team@example.com") && dest.contains(&"sre@example.com"),
        "{dest:?}"
    );
    let raw = sent[0]["raw_data"].as_str().unwrap();
    let msg = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    assert_eq!(
        msg.subject(),
        Some("TLS report digest 2024-11-08: 2 domains, 100.0% TLS success, 1 needs attention")
    );
    let text = msg.body_text(0).unwrap();
    assert!(text.contains("eden.one: ok"), "{text}");
    assert!(text.contains("quiet.example.org: no reports"), "{text}");
    assert!(msg
        .body_html(0)
        .unwrap()
        .contains("cid:chart-1.2024-11-08@stsguard"));

    // The digest and its companions are in the bucket; a retry does not resend.
    for ext in ["json", "html", "eml", "sent"] {
        let key = format!("digests/day=2024-11-08.{ext}");
        assert!(check.get(&key).await.unwrap().is_some(), "{key}");
    }
    let again = handler.handle(json!({"day": "2024-11-08"}), now()).await.unwrap();
    assert_eq!(again.mail, "already-sent");
    assert_eq!(sent_by(&from).len(), 1);
}

#[tokio::test]
#[ignore = "needs a local S3/SES endpoint: run by .ci/run"]
async fn more_than_a_thousand_reports_in_a_day_are_all_read() {
    let s3 = s3().await;
    let (bucket, from) = fresh(&s3, "many").await;
    let store = S3Store::new(s3.clone(), bucket.clone(), "");
    let layout = Layout::default();
    for i in 0..1_050u64 {
        let org = format!("Org {}", i % 7);
        let report_id = format!("r{i}");
        let r = NormalizedReport {
            schema: "stsguard/report/v1".into(),
            id: report_key_id(&org, &report_id),
            report_id,
            organization: org,
            contact_info: None,
            start: "2024-11-08T00:00:00Z".into(),
            end: "2024-11-08T23:59:59Z".into(),
            day: "2024-11-08".into(),
            domain: if i % 2 == 0 {
                "eden.one".into()
            } else {
                "big.example".into()
            },
            other_domains: Vec::new(),
            policies: vec![ReportPolicy {
                policy_type: "sts".into(),
                policy_domain: None,
                policy_strings: Vec::new(),
                mx_hosts: Vec::new(),
                sts: None,
                successful: 10,
                failed: u64::from(i % 10 == 0),
                failures: Vec::new(),
            }],
            source: Source::default(),
            warnings: Vec::new(),
        };
        store
            .put_if_absent(
                &layout.report_key(&r.day, &r.domain, &r.id),
                serde_json::to_vec(&r).unwrap(),
            )
            .await
            .unwrap();
    }
    let mut cfg = config(&bucket, &from);
    cfg.send = false;
    let handler = Handler::new(store, SesMailer::new(ses().await), Silent, cfg);
    let resp = handler.handle(json!({"day": "2024-11-08"}), now()).await.unwrap();
    assert_eq!(resp.reports, 1_050);
    assert_eq!(resp.failed_sessions, 105);
    assert_eq!(resp.mail, "not-requested");
    let check = S3Store::new(s3, bucket, "");
    let stored: stsguard::digest::Digest =
        serde_json::from_slice(&check.get("digests/day=2024-11-08.json").await.unwrap().unwrap()).unwrap();
    assert_eq!(stored.totals.reports, 1_050);
    assert_eq!(stored.totals.successful, 10_500);
    assert!(sent_by(&from).is_empty());
}

#[tokio::test]
#[ignore = "needs a local S3/SES endpoint: run by .ci/run"]
async fn a_missing_bucket_is_an_error_for_lambda_to_retry() {
    let s3 = s3().await;
    let (_, from) = fresh(&s3, "gone").await;
    let store = S3Store::new(s3, "stsguard-no-such-bucket-x", "");
    let handler = Handler::new(
        store,
        SesMailer::new(ses().await),
        Silent,
        config("stsguard-no-such-bucket-x", &from),
    );
    let err = handler.handle(json!({}), now()).await.unwrap_err();
    match err {
        HandlerError::Run { source, .. } => assert!(source.is_transient()),
        other => panic!("{other}"),
    }
    assert!(sent_by(&from).is_empty());
}
