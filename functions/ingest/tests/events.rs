//! Pure translation of real SES and S3 event shapes into work, configuration
//! from the environment, and metric lines. No AWS endpoint needed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use serde_json::Value;
use stsguard_ingest::{
    decode_s3_key, emf_lines, work_items, Config, ConfigError, EventError, ItemResult, Response,
};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned())
}

#[test]
fn ses_lambda_action_reads_the_mail_the_s3_action_wrote() {
    let cfg = config(&[("STSGUARD_BUCKET", "mail-bucket")]).unwrap();
    let items = work_items(&fixture("ses-lambda-action.json"), &cfg).unwrap();
    assert_eq!(items.len(), 1);
    let it = &items[0];
    assert_eq!(it.bucket, "mail-bucket");
    assert_eq!(it.key, "incoming/k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81");
    assert_eq!(it.ctx.channel, "ses");
    assert_eq!(
        it.ctx.ses_message_id.as_deref(),
        Some("k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81")
    );
    assert_eq!(
        it.ctx.envelope_from.as_deref(),
        Some("3IDzYZhoKADcghkXier-lfmi@smtp-tls-reporting.bounces.google.com")
    );
    let v = it.ctx.verdicts.as_ref().unwrap();
    assert_eq!(
        (
            v.dkim.as_deref(),
            v.spf.as_deref(),
            v.dmarc.as_deref(),
            v.spam.as_deref(),
            v.virus.as_deref()
        ),
        (
            Some("pass"),
            Some("pass"),
            Some("pass"),
            Some("pass"),
            Some("pass")
        )
    );
}

#[test]
fn s3_object_created_decodes_keys_and_skips_foreign_prefixes() {
    let cfg = config(&[("STSGUARD_BUCKET", "stsguard-test-bucket")]).unwrap();
    let items = work_items(&fixture("s3-object-created.json"), &cfg).unwrap();
    let keys: Vec<&str> = items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "incoming/m1crosoft0report7mail2id",
            "incoming/replay/broken mail!.eml"
        ]
    );
    assert!(items
        .iter()
        .all(|i| i.ctx.channel == "s3" && i.ctx.verdicts.is_none()));
    assert_eq!(
        items[0].ctx.raw_key.as_deref(),
        Some("incoming/m1crosoft0report7mail2id")
    );

    // A notification on our own output prefix must not feed results back in.
    let mut ev = fixture("s3-object-created.json");
    ev["Records"][0]["s3"]["object"]["key"] = "reports/v1/day%3D2024-11-08/x.json".into();
    ev["Records"][1]["eventName"] = "ObjectRemoved:Delete".into();
    assert!(work_items(&ev, &cfg).unwrap().is_empty());

    // SES's setup notice in the incoming prefix is not report mail.
    let mut ev = fixture("s3-object-created.json");
    ev["Records"][0]["s3"]["object"]["key"] = "incoming/AMAZON_SES_SETUP_NOTIFICATION".into();
    let keys: Vec<String> = work_items(&ev, &cfg)
        .unwrap()
        .into_iter()
        .map(|i| i.key)
        .collect();
    assert_eq!(keys, ["incoming/replay/broken mail!.eml"]);
}

#[test]
fn unknown_and_malformed_events_are_errors() {
    let cfg = config(&[("STSGUARD_BUCKET", "b")]).unwrap();
    assert!(matches!(
        work_items(&serde_json::json!({"detail-type": "Scheduled Event"}), &cfg),
        Err(EventError::Unrecognised(_))
    ));
    let mut ev = fixture("ses-lambda-action.json");
    ev["Records"][0]["ses"]["mail"]["messageId"] = "../../etc".into();
    assert!(matches!(work_items(&ev, &cfg), Err(EventError::Malformed { .. })));
    let mut ev = fixture("ses-lambda-action.json");
    ev["Records"][0]["ses"]["receipt"] = Value::Null;
    assert!(matches!(
        work_items(&ev, &cfg),
        Err(EventError::Malformed { kind: "SES", .. })
    ));
}

#[test]
fn configuration_fails_fast_naming_the_variable() {
    assert_eq!(config(&[]), Err(ConfigError::Missing("STSGUARD_BUCKET")));
    let bad = config(&[("STSGUARD_BUCKET", "b"), ("STSGUARD_REQUIRE_DKIM", "maybe")]).unwrap_err();
    assert!(bad.to_string().contains("STSGUARD_REQUIRE_DKIM"), "{bad}");
    let bad = config(&[("STSGUARD_BUCKET", "s3://b/x")]).unwrap_err();
    assert!(bad.to_string().contains("STSGUARD_BUCKET"), "{bad}");
    let bad = config(&[("STSGUARD_BUCKET", "b"), ("STSGUARD_MAX_MAIL_BYTES", "lots")]).unwrap_err();
    assert!(bad.to_string().contains("STSGUARD_MAX_MAIL_BYTES"), "{bad}");
    let bad = config(&[
        ("STSGUARD_BUCKET", "b"),
        ("STSGUARD_DOMAINS", "eden.one,not a domain"),
    ])
    .unwrap_err();
    assert!(bad.to_string().contains("STSGUARD_DOMAINS"), "{bad}");

    let c = config(&[
        ("STSGUARD_BUCKET", " b "),
        ("STSGUARD_INCOMING_PREFIX", "/mail/in"),
        ("STSGUARD_DOMAINS", "Eden.One., example.com"),
        ("STSGUARD_REQUIRE_DKIM", "true"),
        ("STSGUARD_MAX_MAIL_BYTES", "1000"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
    ])
    .unwrap();
    assert_eq!(c.bucket, "b");
    assert_eq!(c.incoming_prefix, "mail/in/");
    assert_eq!(
        c.ingest.allowed_domains,
        Some(vec!["eden.one".to_owned(), "example.com".to_owned()])
    );
    assert!(c.ingest.require_dkim);
    assert_eq!(c.ingest.limits.max_mail_bytes, 1000);
    assert!(c.path_style);
    let d = config(&[("STSGUARD_BUCKET", "b")]).unwrap();
    assert_eq!(
        (d.incoming_prefix.as_str(), d.store_prefix.as_str(), d.path_style),
        ("incoming/", "", false)
    );
    assert_eq!(d.ingest.allowed_domains, None);
}

#[test]
fn s3_keys_are_url_decoded() {
    assert_eq!(decode_s3_key("incoming/a+b%21c%2Fd"), "incoming/a b!c/d");
    assert_eq!(decode_s3_key("100%"), "100%");
    assert_eq!(decode_s3_key("%zz%4"), "%zz%4");
    assert_eq!(decode_s3_key("%E2%9C%93"), "\u{2713}");
}

#[test]
fn metrics_are_embedded_metric_format() {
    let resp = Response {
        disposition: "CONTINUE",
        items: vec![
            ItemResult {
                raw: "b/k1".into(),
                written: vec!["a".into(), "b".into()],
                duplicates: vec![],
                rejected: None,
            },
            ItemResult {
                raw: "b/k2".into(),
                written: vec![],
                duplicates: vec!["c".into()],
                rejected: Some("bad-gzip".into()),
            },
            ItemResult {
                raw: "b/k3".into(),
                written: vec![],
                duplicates: vec![],
                rejected: Some("bad-gzip".into()),
            },
        ],
    };
    let lines = emf_lines(&resp, 1_731_121_967_000);
    assert_eq!(lines.len(), 2);
    let main: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(main["_aws"]["CloudWatchMetrics"][0]["Namespace"], "stsguard");
    assert_eq!(
        (
            main["ReportsWritten"].as_u64(),
            main["Duplicates"].as_u64(),
            main["MailsProcessed"].as_u64()
        ),
        (Some(2), Some(1), Some(3))
    );
    let rej: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        (rej["Reason"].as_str(), rej["Rejected"].as_u64()),
        (Some("bad-gzip"), Some(2))
    );
    assert_eq!(rej["_aws"]["Timestamp"], 1_731_121_967_000u64);
}
