//! Pure translation of real SES and S3 event shapes into work, configuration
//! from the environment, metric lines, and the handler over memory (raw mail
//! and results in memory stores). No AWS endpoint needed.

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
                conflicts: vec!["d".into()],
                rejected: None,
            },
            ItemResult {
                raw: "b/k2".into(),
                written: vec![],
                duplicates: vec!["c".into()],
                conflicts: vec![],
                rejected: Some("bad-gzip".into()),
            },
            ItemResult {
                raw: "b/k3".into(),
                written: vec![],
                duplicates: vec![],
                conflicts: vec![],
                rejected: Some("bad-gzip".into()),
            },
        ],
        alert_messages: 2,
    };
    let lines = emf_lines(&resp, 1_731_121_967_000);
    assert_eq!(lines.len(), 2);
    let main: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(main["_aws"]["CloudWatchMetrics"][0]["Namespace"], "stsguard");
    assert_eq!(main["AlertMessages"], 2);
    assert_eq!(
        (
            main["ReportsWritten"].as_u64(),
            main["Duplicates"].as_u64(),
            main["Conflicts"].as_u64(),
            main["MailsProcessed"].as_u64()
        ),
        (Some(2), Some(1), Some(1), Some(3))
    );
    let rej: Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(
        (rej["Reason"].as_str(), rej["Rejected"].as_u64()),
        (Some("bad-gzip"), Some(2))
    );
    assert_eq!(rej["_aws"]["Timestamp"], 1_731_121_967_000u64);
}

/// The handler over memory: the raw mail in a [`MemoryStore`] under
/// `bucket/key` (the memory [`RawSource`]), results in another.
mod handler {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use lambda_runtime::Diagnostic;
    use serde_json::Value;
    use stsguard::ingest::{self, InputKind, RejectReason, RejectedRecord};
    use stsguard::report::{NormalizedReport, WarningCode};
    use stsguard::store::{ErrorChain, MemoryStore, ObjectStore, PutOutcome, RawSource, StoreError};
    use stsguard_ingest::{emf_lines, work_items, Config, Handler, HandlerError};

    use super::{config, fixture};

    const SES_KEY: &str = "incoming/k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81";

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp(1_731_121_967, 0).unwrap()
    }

    fn sample(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples");
        std::fs::read(path.join(name)).unwrap()
    }

    fn cfg(bucket: &str) -> Config {
        config(&[("STSGUARD_BUCKET", bucket)]).unwrap()
    }

    /// Raw mails as SES's S3 action or a replay would leave them.
    async fn raw_mail(objects: &[(&str, &str, Vec<u8>)]) -> MemoryStore {
        let raw = MemoryStore::new();
        for (bucket, key, body) in objects {
            raw.put(&format!("{bucket}/{key}"), body.clone()).await.unwrap();
        }
        raw
    }

    /// Every object of a store, by key.
    /// Every stored object but the alerts (tested on their own below).
    async fn contents<S: ObjectStore>(store: &S) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for key in store.list("").await.unwrap() {
            if key.starts_with("alerts/") {
                continue;
            }
            let body = store.get(&key).await.unwrap().unwrap();
            out.push((key, body));
        }
        out
    }

    fn keys(objects: &[(String, Vec<u8>)]) -> Vec<&str> {
        objects.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// A mail with `json` as its report (application/tlsrpt+json).
    fn json_mail(json: &str) -> Vec<u8> {
        format!(
            "From: reports@example.net\r\nTo: tlsrpt@eden.one\r\nSubject: Report\r\nMIME-Version: 1.0\r\n\
             Content-Type: application/tlsrpt+json\r\n\r\n{json}"
        )
        .into_bytes()
    }

    #[tokio::test]
    async fn a_conflicting_redelivery_keeps_the_first_and_is_counted_in_the_metrics() {
        let json = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/tests/fixtures/corpus/seed-google-eden.json"),
        )
        .unwrap();
        let changed = json.replacen(
            "\"total-failure-session-count\": 0",
            "\"total-failure-session-count\": 3",
            1,
        );
        assert_ne!(changed, json);
        let handler = Handler::new(
            MemoryStore::new(),
            raw_mail(&[("mail-bucket", SES_KEY, json_mail(&json))]).await,
            cfg("mail-bucket"),
        );
        let event = fixture("ses-lambda-action.json");
        let first = handler.handle(event.clone(), now()).await.unwrap();
        assert_eq!(first.items[0].written.len(), 1);
        let kept = contents(handler.store()).await;

        // The same report-id arrives again with other counts.
        handler
            .raw_source()
            .put(&format!("mail-bucket/{SES_KEY}"), json_mail(&changed))
            .await
            .unwrap();
        let second = handler.handle(event.clone(), now()).await.unwrap();
        let item = &second.items[0];
        assert!(item.written.is_empty() && item.duplicates.is_empty(), "{item:?}");
        assert_eq!(item.conflicts, first.items[0].written);
        let after = contents(handler.store()).await;
        assert_eq!(after.len(), 2, "{:?}", keys(&after));
        let report = after.iter().find(|(k, _)| k.starts_with("reports/")).unwrap();
        assert!(*report == kept[0], "the first delivery stays as it was");
        let (ckey, conflict) = after.iter().find(|(k, _)| k.starts_with("rejected/")).unwrap();
        let record: ingest::ConflictRecord = serde_json::from_slice(conflict).unwrap();
        assert!(ckey.starts_with("rejected/day=2024-11-08/conflict-"), "{ckey}");
        assert_eq!(
            record.dropped.ses_message_id.as_deref(),
            Some(&SES_KEY["incoming/".len()..])
        );
        assert_ne!(record.kept.payload_sha256, record.dropped.payload_sha256);
        let metrics: Value = serde_json::from_str(&emf_lines(&second, 0)[0]).unwrap();
        assert_eq!(
            (metrics["Conflicts"].as_u64(), metrics["Duplicates"].as_u64()),
            (Some(1), Some(0))
        );
    }

    #[tokio::test]
    async fn an_ses_report_mail_is_stored_as_prepared_and_a_redelivery_writes_nothing() {
        let mail = sample("google-eden.eml");
        let handler = Handler::new(
            MemoryStore::new(),
            raw_mail(&[("mail-bucket", SES_KEY, mail.clone())]).await,
            cfg("mail-bucket"),
        );
        let event = fixture("ses-lambda-action.json");
        let resp = handler.handle(event.clone(), now()).await.unwrap();
        assert_eq!(resp.disposition, "CONTINUE");
        assert_eq!(resp.items.len(), 1);
        let item = &resp.items[0];
        assert_eq!(item.raw, format!("mail-bucket/{SES_KEY}"));
        assert_eq!((item.written.len(), item.duplicates.len()), (1, 0));
        assert_eq!(item.rejected, None);

        // Exactly what the library's pipeline makes of the mail with the event's
        // context, under the expected key.
        let stored = contents(handler.store()).await;
        let id = &item.written[0];
        assert_eq!(
            keys(&stored),
            [format!("reports/v1/day=2024-11-08/domain=eden.one/{id}.json")]
        );
        let ctx = &work_items(&event, &cfg("mail-bucket")).unwrap()[0].ctx;
        let prepared = ingest::prepare(&mail, InputKind::Mail, ctx, &cfg("mail-bucket").ingest, now());
        assert_eq!(prepared.rejection, None);
        assert_eq!(prepared.reports.len(), 1);
        assert_eq!(stored[0].0, prepared.reports[0].0);
        assert_eq!(stored[0].1, ingest::to_json(&prepared.reports[0].1));
        let r: NormalizedReport = serde_json::from_slice(&stored[0].1).unwrap();
        assert_eq!(&r.id, id);
        assert_eq!(r.source.channel, "ses");
        assert_eq!(
            r.source.ses_message_id.as_deref(),
            SES_KEY.strip_prefix("incoming/")
        );
        assert_eq!(r.source.raw_key.as_deref(), Some(SES_KEY));
        assert_eq!(r.source.verdicts.dkim.as_deref(), Some("pass"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);

        // Redelivery (Lambda's asynchronous retry, or SES delivering twice).
        let again = handler.handle(event, now()).await.unwrap();
        assert_eq!(again.items[0].written, Vec::<String>::new());
        assert_eq!(&again.items[0].duplicates, &item.written);
        assert_eq!(contents(handler.store()).await, stored);
        // The raw mail is read, never moved or rewritten.
        assert_eq!(
            contents(handler.raw_source()).await,
            [(format!("mail-bucket/{SES_KEY}"), mail)]
        );

        let m: Value = serde_json::from_str(&emf_lines(&again, 0)[0]).unwrap();
        assert_eq!(
            (m["ReportsWritten"].as_u64(), m["Duplicates"].as_u64()),
            (Some(0), Some(1))
        );
    }

    /// Records what was published.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<(String, String)>>);

    impl stsguard::alerts::run::Notifier for Recorder {
        async fn publish(
            &self,
            subject: &str,
            body: &str,
        ) -> Result<String, stsguard::alerts::run::NotifyError> {
            self.0.lock().unwrap().push((subject.to_owned(), body.to_owned()));
            Ok("m".into())
        }
    }

    #[tokio::test]
    async fn a_stored_report_with_a_stopping_failure_is_announced_once_on_arrival() {
        let bucket = "stsguard-test-bucket";
        let handler = Handler::new(
            MemoryStore::new(),
            raw_mail(&[(
                bucket,
                "incoming/m1crosoft0report7mail2id",
                sample("microsoft-eden.eml"),
            )])
            .await,
            cfg(bucket),
        )
        .with_notifier(Recorder::default());
        let mut event = fixture("s3-object-created.json");
        event["Records"].as_array_mut().unwrap().truncate(1);
        let first = handler.handle(event.clone(), now()).await.unwrap();
        assert_eq!(first.alert_messages, 1);
        // Delivered again (a retry): the report is a duplicate, the alert is
        // evaluated again and not announced twice.
        let again = handler.handle(event, now()).await.unwrap();
        assert_eq!(again.items[0].duplicates.len(), 1);
        assert_eq!(again.alert_messages, 0);
        let sent = handler_sent(&handler);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].0,
            "[stsguard] ALERT eden.one: sts-policy-fetch-error failures"
        );
        let body: Value = serde_json::from_str(&sent[0].1).unwrap();
        assert_eq!(body["alert"]["evidence"]["day"], "2024-11-07");
        assert_eq!(body["alert"]["evidence"]["reporters"][0], "Microsoft Corporation");
        let alerts = handler.store().list("alerts/v1/domain=eden.one/").await.unwrap();
        assert_eq!(alerts.len(), 1, "{alerts:?}");
    }

    fn handler_sent<S: ObjectStore, R: RawSource>(h: &Handler<S, R, Recorder>) -> Vec<(String, String)> {
        h.notifier().0.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn an_s3_event_ingests_one_mail_and_quarantines_the_broken_one() {
        let bucket = "stsguard-test-bucket";
        let broken = sample("broken-truncated-gzip.eml");
        let handler = Handler::new(
            MemoryStore::new(),
            raw_mail(&[
                (
                    bucket,
                    "incoming/m1crosoft0report7mail2id",
                    sample("microsoft-eden.eml"),
                ),
                // The event names it URL-encoded: `incoming/replay/broken+mail%21.eml`.
                (bucket, "incoming/replay/broken mail!.eml", broken.clone()),
            ])
            .await,
            cfg(bucket),
        );
        let resp = handler
            .handle(fixture("s3-object-created.json"), now())
            .await
            .unwrap();
        assert_eq!(resp.items.len(), 2);
        assert_eq!(
            resp.items[0].raw,
            format!("{bucket}/incoming/m1crosoft0report7mail2id")
        );
        assert_eq!(
            (resp.items[0].written.len(), resp.items[0].rejected.as_deref()),
            (1, None)
        );
        assert_eq!(
            resp.items[1].raw,
            format!("{bucket}/incoming/replay/broken mail!.eml")
        );
        assert_eq!(
            (resp.items[1].written.len(), resp.items[1].rejected.as_deref()),
            (0, Some("bad-gzip"))
        );

        let stored = contents(handler.store()).await;
        let rejected_key = format!("rejected/day=2024-11-09/{}.json", stsguard::sha256_hex(&broken));
        assert_eq!(
            keys(&stored),
            [
                rejected_key.clone(),
                format!(
                    "reports/v1/day=2024-11-07/domain=eden.one/{}.json",
                    resp.items[0].written[0]
                ),
            ]
        );
        let rec: RejectedRecord = serde_json::from_slice(&stored[0].1).unwrap();
        assert_eq!(rec.reason, RejectReason::BadGzip);
        assert_eq!(rec.input.channel, "s3");
        assert_eq!(
            rec.input.raw_key.as_deref(),
            Some("incoming/replay/broken mail!.eml")
        );
        assert_eq!(rec.input.bytes, broken.len() as u64);
        // No SES event on this path: the report is flagged as unauthenticated.
        let r: NormalizedReport = serde_json::from_slice(&stored[1].1).unwrap();
        assert_eq!(r.source.channel, "s3");
        assert!(r.warnings.iter().any(|w| w.code == WarningCode::Unauthenticated));

        let lines = emf_lines(&resp, 0);
        let rej: Value = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(
            (rej["Reason"].as_str(), rej["Rejected"].as_u64()),
            (Some("bad-gzip"), Some(1))
        );
    }

    #[tokio::test]
    async fn a_mail_without_a_report_is_quarantined_and_the_invocation_succeeds() {
        let mail = b"From: Someone <someone@example.com>\r\n\
To: tlsrpt@reports.eden.one\r\n\
Subject: Out of office\r\n\
Message-ID: <ooo@example.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
I am away until Monday.\r\n"
            .to_vec();
        let handler = Handler::new(
            MemoryStore::new(),
            raw_mail(&[("mail-bucket", SES_KEY, mail.clone())]).await,
            cfg("mail-bucket"),
        );
        let event = fixture("ses-lambda-action.json");
        let resp = handler.handle(event.clone(), now()).await.unwrap();
        assert_eq!(resp.disposition, "CONTINUE");
        assert_eq!(resp.items[0].written, Vec::<String>::new());
        assert_eq!(resp.items[0].rejected.as_deref(), Some("no-report-part"));

        let stored = contents(handler.store()).await;
        assert_eq!(
            keys(&stored),
            [format!(
                "rejected/day=2024-11-09/{}.json",
                stsguard::sha256_hex(&mail)
            )]
        );
        let rec: RejectedRecord = serde_json::from_slice(&stored[0].1).unwrap();
        assert_eq!(rec.reason, RejectReason::NoReportPart);
        assert_eq!(rec.input.channel, "ses");
        assert_eq!(rec.input.raw_key.as_deref(), Some(SES_KEY));
        assert_eq!(rec.input.sha256, stsguard::sha256_hex(&mail));
        assert_eq!(
            rec.mail.as_ref().and_then(|m| m.subject.as_deref()),
            Some("Out of office")
        );

        // Redelivered: the same rejection, nothing new written.
        let again = handler.handle(event, now()).await.unwrap();
        assert_eq!(again.items[0].rejected.as_deref(), Some("no-report-part"));
        assert_eq!(contents(handler.store()).await, stored);
    }

    #[tokio::test]
    async fn an_oversize_raw_mail_is_rejected_by_its_hash_and_size_unread() {
        let mail = sample("google-eden.eml");
        let raw = raw_mail(&[("mail-bucket", SES_KEY, mail.clone())]).await;
        let mut config = cfg("mail-bucket");
        config.ingest.limits.max_mail_bytes = mail.len() - 1;
        let handler = Handler::new(MemoryStore::new(), raw, config);
        let resp = handler
            .handle(fixture("ses-lambda-action.json"), now())
            .await
            .unwrap();
        assert_eq!(resp.items[0].rejected.as_deref(), Some("too-large"));
        assert_eq!(resp.items[0].written, Vec::<String>::new());

        let stored = contents(handler.store()).await;
        let sha = stsguard::sha256_hex(&mail);
        assert_eq!(keys(&stored), [format!("rejected/day=2024-11-09/{sha}.json")]);
        let rec: RejectedRecord = serde_json::from_slice(&stored[0].1).unwrap();
        assert_eq!(rec.reason, RejectReason::TooLarge);
        assert_eq!(
            (rec.input.sha256.as_str(), rec.input.bytes),
            (sha.as_str(), mail.len() as u64)
        );
        assert_eq!(rec.input.raw_key.as_deref(), Some(SES_KEY));
        // Not parsed: the source handed over a hash and a size, not the mail.
        assert_eq!(rec.mail, None);
        assert!(rec.parts.is_empty());

        // At the cap exactly, the same mail is ingested.
        let mut config = cfg("mail-bucket");
        config.ingest.limits.max_mail_bytes = mail.len();
        let handler = Handler::new(
            MemoryStore::new(),
            raw_mail(&[("mail-bucket", SES_KEY, mail)]).await,
            config,
        );
        let resp = handler
            .handle(fixture("ses-lambda-action.json"), now())
            .await
            .unwrap();
        assert_eq!(
            (resp.items[0].written.len(), resp.items[0].rejected.as_deref()),
            (1, None)
        );
    }

    #[tokio::test]
    async fn a_missing_raw_mail_is_an_error_so_that_lambda_retries() {
        // The mail is in another bucket than the one the configuration names.
        let handler = Handler::new(
            MemoryStore::new(),
            raw_mail(&[("other-bucket", SES_KEY, sample("google-eden.eml"))]).await,
            cfg("mail-bucket"),
        );
        let err = handler
            .handle(fixture("ses-lambda-action.json"), now())
            .await
            .unwrap_err();
        match &err {
            HandlerError::RawMissing(raw) => assert_eq!(raw, &format!("mail-bucket/{SES_KEY}")),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            err.to_string(),
            format!("raw mail s3://mail-bucket/{SES_KEY} not found")
        );
        assert!(handler.store().is_empty());
    }

    /// A store whose writes fail once `puts_left` successful ones are used up,
    /// as S3 does when its endpoint goes away; reads and listings work.
    #[derive(Default)]
    struct FailingStore {
        inner: MemoryStore,
        puts_left: AtomicUsize,
    }

    impl ObjectStore for FailingStore {
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.get(key).await
        }
        async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<PutOutcome, StoreError> {
            let left = self.puts_left.load(Ordering::SeqCst);
            if left == 0 {
                return Err(StoreError::Remote {
                    op: "put",
                    key: key.to_owned(),
                    source: Box::new(std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        "connection refused",
                    )),
                });
            }
            self.puts_left.store(left - 1, Ordering::SeqCst);
            self.inner.put_if_absent(key, body).await
        }
        async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
            self.inner.put(key, body).await
        }
        async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
            self.inner.list(prefix).await
        }
    }

    #[tokio::test]
    async fn a_failing_store_is_a_storage_error_naming_the_cause_and_a_retry_completes() {
        let handler = Handler::new(
            FailingStore::default(),
            raw_mail(&[("mail-bucket", SES_KEY, sample("google-eden.eml"))]).await,
            cfg("mail-bucket"),
        );
        let event = fixture("ses-lambda-action.json");
        let err = handler.handle(event.clone(), now()).await.unwrap_err();
        let HandlerError::Storage { raw, source } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(raw, &format!("mail-bucket/{SES_KEY}"));
        assert!(
            matches!(source, StoreError::Remote { op: "put", .. }),
            "{source:?}"
        );
        assert!(handler.store().inner.is_empty());
        // What the runtime reports, and so what Lambda's logs and the on-failure
        // destination show, names the cause.
        let chain = ErrorChain(&err).to_string();
        assert!(
            chain.starts_with(&format!(
                "storage failed for mail-bucket/{SES_KEY}: put reports/v1/"
            )),
            "{chain}"
        );
        assert!(chain.ends_with(": connection refused"), "{chain}");
        assert_eq!(Diagnostic::from(err).error_message, chain);

        // Two reports in one mail, and the store fails after the first: that
        // one is whole, the other absent; the retry writes only the other.
        let mail = sample("google-eden-two-days.eml");
        let handler = Handler::new(
            FailingStore {
                puts_left: AtomicUsize::new(1),
                ..FailingStore::default()
            },
            raw_mail(&[("mail-bucket", SES_KEY, mail.clone())]).await,
            cfg("mail-bucket"),
        );
        let err = handler.handle(event.clone(), now()).await.unwrap_err();
        assert!(matches!(err, HandlerError::Storage { .. }), "{err:?}");
        let ctx = &work_items(&event, &cfg("mail-bucket")).unwrap()[0].ctx;
        let prepared = ingest::prepare(&mail, InputKind::Mail, ctx, &cfg("mail-bucket").ingest, now());
        assert_eq!(prepared.reports.len(), 2);
        let first = &prepared.reports[0];
        assert_eq!(
            contents(&handler.store().inner).await,
            [(first.0.clone(), ingest::to_json(&first.1))]
        );

        handler.store().puts_left.store(usize::MAX, Ordering::SeqCst);
        let resp = handler.handle(event, now()).await.unwrap();
        assert_eq!(resp.items[0].duplicates, [first.1.id.as_str()]);
        assert_eq!(resp.items[0].written, [prepared.reports[1].1.id.as_str()]);
        let mut want: Vec<(String, Vec<u8>)> = prepared
            .reports
            .iter()
            .map(|(k, r)| (k.clone(), ingest::to_json(r)))
            .collect();
        want.sort();
        assert_eq!(contents(&handler.store().inner).await, want);
    }

    #[tokio::test]
    async fn a_failing_raw_source_is_a_storage_error_too() {
        struct Unreachable;
        impl RawSource for Unreachable {
            async fn get_capped(
                &self,
                bucket: &str,
                key: &str,
                _cap: usize,
            ) -> Result<Option<stsguard::store::Fetched>, StoreError> {
                Err(StoreError::Remote {
                    op: "get",
                    key: format!("{bucket}/{key}"),
                    source: "dispatch failure: connection refused".into(),
                })
            }
        }
        let handler = Handler::new(MemoryStore::new(), Unreachable, cfg("mail-bucket"));
        let err = handler
            .handle(fixture("ses-lambda-action.json"), now())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                HandlerError::Storage {
                    source: StoreError::Remote { op: "get", .. },
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(ErrorChain(&err).to_string().ends_with("connection refused"));
        assert!(handler.store().is_empty());
    }
}
