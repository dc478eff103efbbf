//! The pure half of the digest Lambda: configuration from the environment and
//! the day an event asks for, with the event shapes AWS sends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};
use stsguard::alerts::run::Silent;
use stsguard::mailer::RecordingMailer;
use stsguard::store::MemoryStore;
use stsguard_digest::{day_for_event, emf_line, Config, ConfigError, EventError, Handler, HandlerError};

fn fixture(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 11, 9, 6, 0, 3).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| m.get(k).cloned()
}

const BASE: [(&str, &str); 3] = [
    ("STSGUARD_BUCKET", "tls-reports"),
    ("STSGUARD_DIGEST_FROM", "tls-digest@example.com"),
    ("STSGUARD_DIGEST_TO", "mail-team@example.com, sre@example.com"),
];

#[test]
fn scheduled_events_digest_the_day_before_their_time() {
    assert_eq!(
        day_for_event(&fixture("scheduler-input.json"), now()).unwrap(),
        d("2024-11-08")
    );
    assert_eq!(
        day_for_event(&fixture("cloudwatch-scheduled-event.json"), now()).unwrap(),
        d("2024-11-08")
    );
    // A schedule in a time zone east of UTC fires before midnight UTC: the
    // scheduled time, not the local date, decides.
    assert_eq!(
        day_for_event(&json!({"time": "2024-11-09T01:30:00+02:00"}), now()).unwrap(),
        d("2024-11-07")
    );
}

#[test]
fn a_backfill_names_its_day_and_it_must_have_ended() {
    assert_eq!(
        day_for_event(&fixture("backfill.json"), now()).unwrap(),
        d("2024-11-05")
    );
    assert_eq!(
        day_for_event(&json!({"day": "2024-11-08"}), now()).unwrap(),
        d("2024-11-08")
    );
    assert!(matches!(
        day_for_event(&json!({"day": "2024-11-09"}), now()),
        Err(EventError::FutureDay { .. })
    ));
    assert!(matches!(
        day_for_event(&json!({"day": "8/11/2024"}), now()),
        Err(EventError::BadDay(_))
    ));
    assert!(matches!(
        day_for_event(&json!({"day": 20241108}), now()),
        Err(EventError::BadDay(_))
    ));
    assert!(matches!(
        day_for_event(&json!({"time": "yesterday"}), now()),
        Err(EventError::BadTime(_))
    ));
}

#[test]
fn any_other_event_digests_yesterday() {
    for e in [
        json!({}),
        Value::Null,
        json!({"day": null}),
        json!({"source": "manual"}),
    ] {
        assert_eq!(day_for_event(&e, now()).unwrap(), d("2024-11-08"), "{e}");
    }
}

#[test]
fn configuration_from_the_environment() {
    let c = Config::from_lookup(env(&BASE)).unwrap();
    assert_eq!(c.bucket, "tls-reports");
    assert_eq!(c.store_prefix, "");
    assert_eq!(c.run.to, ["mail-team@example.com", "sre@example.com"]);
    assert!(c.send);
    assert!(!c.path_style);
    assert!(c.run.digest.domains.is_empty());
    assert_eq!(c.run.digest.failure_jump_points, 5.0);
    assert_eq!(c.run.concurrency, 32);

    let mut more = BASE.to_vec();
    more.extend([
        ("STSGUARD_STORE_PREFIX", "/tls/"),
        ("STSGUARD_DOMAINS", "Example.COM., shop.example.net"),
        ("STSGUARD_FAILURE_JUMP", "2.5"),
        ("STSGUARD_READ_CONCURRENCY", " 128 "),
        ("STSGUARD_DIGEST_SEND", "false"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:45123"),
    ]);
    let c = Config::from_lookup(env(&more)).unwrap();
    assert_eq!(c.store_prefix, "tls/");
    assert_eq!(c.run.digest.domains, ["example.com", "shop.example.net"]);
    assert_eq!(c.run.digest.failure_jump_points, 2.5);
    assert_eq!(c.run.concurrency, 128);
    assert!(!c.send);
    assert!(c.path_style);
}

#[test]
fn configuration_errors_name_the_variable() {
    assert_eq!(
        Config::from_lookup(env(&BASE[1..])).unwrap_err(),
        ConfigError::Missing("STSGUARD_BUCKET")
    );
    assert_eq!(
        Config::from_lookup(env(&BASE[..2])).unwrap_err(),
        ConfigError::Missing("STSGUARD_DIGEST_TO")
    );
    for (name, value) in [
        ("STSGUARD_DIGEST_FROM", "Digest <tls-digest@example.com>"),
        ("STSGUARD_DIGEST_TO", "a@example.com\r\nBcc: b@evil.example"),
        ("STSGUARD_FAILURE_JUMP", "-1"),
        ("STSGUARD_FAILURE_JUMP", "lots"),
        ("STSGUARD_READ_CONCURRENCY", "0"),
        ("STSGUARD_READ_CONCURRENCY", "1025"),
        ("STSGUARD_READ_CONCURRENCY", "many"),
        ("STSGUARD_DIGEST_SEND", "maybe"),
        ("STSGUARD_BUCKET", "s3://tls-reports/x"),
    ] {
        let mut pairs: Vec<(&str, &str)> = BASE.iter().copied().filter(|(k, _)| *k != name).collect();
        pairs.push((name, value));
        match Config::from_lookup(env(&pairs)) {
            Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}={value:?}: {other:?}"),
        }
    }
}

#[test]
fn the_handler_digests_sends_once_and_reports_what_it_did() {
    let config = Config::from_lookup(env(&BASE)).unwrap();
    let handler = Handler::new(MemoryStore::new(), RecordingMailer::new(), Silent, config);
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let resp = rt
        .block_on(handler.handle(fixture("scheduler-input.json"), now()))
        .unwrap();
    assert_eq!(resp.day, "2024-11-08");
    assert_eq!(resp.mail, "sent");
    assert_eq!(
        resp.written,
        [
            "digests/day=2024-11-08.json",
            "digests/day=2024-11-08.html",
            "digests/day=2024-11-08.eml",
            "digests/day=2024-11-08.sent"
        ]
    );
    let again = rt
        .block_on(handler.handle(fixture("cloudwatch-scheduled-event.json"), now()))
        .unwrap();
    assert_eq!(again.mail, "already-sent");
    let bad = rt.block_on(handler.handle(json!({"day": "soon"}), now()));
    assert!(matches!(bad, Err(HandlerError::Event(EventError::BadDay(_)))));

    let line: Value = serde_json::from_str(&emf_line(&resp, 1_731_132_003_000)).unwrap();
    assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "stsguard");
    assert_eq!(line["DigestSent"], 1);
    assert_eq!(line["Function"], "digest");
}

#[test]
fn a_failed_invocation_reports_every_cause() {
    use stsguard::digest::run::RunError;
    use stsguard::store::StoreError;
    let err = HandlerError::Run {
        day: d("2024-11-09"),
        source: RunError::Store(StoreError::Remote {
            op: "put",
            key: "digests/day=2024-11-09.json".into(),
            source: Box::new(std::io::Error::other("NoSuchBucket: the bucket does not exist")),
        }),
    };
    assert_eq!(err.to_string(), "digest of 2024-11-09 failed");
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(
        diagnostic.error_message,
        "digest of 2024-11-09 failed: put digests/day=2024-11-09.json: NoSuchBucket: the bucket does not exist"
    );
    assert_eq!(diagnostic.error_type, "stsguard_digest::HandlerError");
}

/// Records what was published (shared with the test through the `Arc`).
#[derive(Clone, Default)]
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl stsguard::alerts::run::Notifier for Recorder {
    async fn publish(
        &self,
        subject: &str,
        _body: &str,
    ) -> Result<String, stsguard::alerts::run::NotifyError> {
        self.0.lock().unwrap().push(subject.to_owned());
        Ok("m".into())
    }
}

#[test]
fn the_daily_run_evaluates_alerts_first_and_the_digest_lists_the_open_ones() {
    use stsguard::ingest::{self, IngestConfig, InputContext, InputKind};
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let store = MemoryStore::new();
    let mail =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/microsoft-eden.eml"))
            .unwrap();
    let prepared = ingest::prepare(
        &mail,
        InputKind::Mail,
        &InputContext::default(),
        &IngestConfig::default(),
        now(),
    );
    rt.block_on(ingest::store_prepared(&store, prepared)).unwrap();

    let recorder = Recorder::default();
    let config = Config::from_lookup(env(&BASE)).unwrap();
    let mailer = RecordingMailer::new();
    let handler = Handler::new(store, mailer, recorder.clone(), config);
    let resp = rt
        .block_on(handler.handle(json!({"day": "2024-11-07"}), now()))
        .unwrap();
    assert_eq!((resp.alert_messages, resp.open_alerts), (1, 1));
    assert_eq!(
        *recorder.0.lock().unwrap(),
        ["[stsguard] ALERT eden.one: sts-policy-fetch-error failures"]
    );
    let line: Value = serde_json::from_str(&emf_line(&resp, 1)).unwrap();
    assert_eq!(
        (line["AlertMessages"].as_u64(), line["OpenAlerts"].as_u64()),
        (Some(1), Some(1))
    );
}

#[test]
fn alert_settings_come_from_the_environment_and_bad_ones_name_the_variable() {
    let mut pairs: Vec<(&str, &str)> = BASE.to_vec();
    pairs.extend([
        (
            "STSGUARD_ALERT_TOPIC_ARN",
            "arn:aws:sns:eu-west-1:123456789012:stsguard-alerts",
        ),
        ("STSGUARD_ALERT_TESTING_SHARE", "12.5"),
        ("STSGUARD_ALERT_REMIND_HOURS", "6"),
        ("STSGUARD_ALERT_MAX_MESSAGES", "3"),
        ("STSGUARD_ALERT_SILENCE_DAYS", "3"),
        ("STSGUARD_DOMAINS", "Eden.One"),
    ]);
    let c = Config::from_lookup(env(&pairs)).unwrap();
    assert_eq!(
        c.alert_topic_arn.as_deref(),
        Some("arn:aws:sns:eu-west-1:123456789012:stsguard-alerts")
    );
    let a = &c.alerts;
    assert_eq!(
        (
            a.testing_share_percent,
            a.remind_after_hours,
            a.max_messages_per_run,
            a.silence_days
        ),
        (12.5, 6, 3, 3)
    );
    assert_eq!(a.domains, ["eden.one"]);
    assert_eq!(Config::from_lookup(env(&BASE)).unwrap().alert_topic_arn, None);
    for (name, value) in [
        ("STSGUARD_ALERT_TOPIC_ARN", "stsguard-alerts"),
        ("STSGUARD_ALERT_TESTING_SHARE", "150"),
        ("STSGUARD_ALERT_REMIND_HOURS", "0"),
        ("STSGUARD_ALERT_MAX_MESSAGES", "none"),
        ("STSGUARD_ALERT_SILENCE_DAYS", "30"),
    ] {
        let mut pairs: Vec<(&str, &str)> = BASE.to_vec();
        pairs.push((name, value));
        match Config::from_lookup(env(&pairs)) {
            Err(ConfigError::Invalid { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}={value:?}: {other:?}"),
        }
    }
}
