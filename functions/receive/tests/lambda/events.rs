//! Function URL events (payload format 2.0, fixtures in `tests/fixtures/`)
//! through the handler over a memory store: every answer, what is kept for
//! each, hostile request text, and the configuration.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use stsguard::store::{MemoryStore, ObjectStore, PutOutcome, StoreError};
use stsguard_receive::{emf_line, request_of, Config, ConfigError, EventError, Handled, Handler};

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_121_967, 0).unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

pub(crate) fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn config(extra: &[(&str, &str)]) -> Config {
    Config::from_lookup(|k| {
        if k == "STSGUARD_BUCKET" {
            return Some("reports-bucket".into());
        }
        extra
            .iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap()
}

fn handle<S: ObjectStore>(handler: &Handler<S>, event: Value) -> Handled {
    block_on(handler.handle(event, now())).unwrap()
}

fn keys(store: &MemoryStore, prefix: &str) -> Vec<String> {
    block_on(store.list(prefix)).unwrap()
}

fn json_at(store: &MemoryStore, key: &str) -> Value {
    serde_json::from_slice(&block_on(store.get(key)).unwrap().unwrap()).unwrap()
}

fn header<'a>(h: &'a Handled, name: &str) -> Option<&'a str> {
    h.url.headers.get(name).and_then(|v| v.to_str().ok())
}

#[test]
fn a_gzip_post_is_kept_raw_then_stored_and_the_same_post_again_is_a_duplicate() {
    let handler = Handler::new(MemoryStore::new(), config(&[]));
    let first = handle(&handler, fixture("url-post-gzip.json"));
    assert_eq!(first.url.status_code, 201, "{}", first.answer.log);
    assert_eq!(first.url.body.as_deref(), Some("stored 1 report\n"));
    assert_eq!(header(&first, "content-type"), Some("text/plain; charset=utf-8"));
    assert!(!first.url.is_base64_encoded);

    let store = handler.store();
    let raw = keys(store, "raw/https/");
    assert_eq!(raw.len(), 1, "{raw:?}");
    assert!(raw[0].starts_with("raw/https/day=2024-11-09/"), "{raw:?}");
    // The raw body is the decoded request body: gzip, byte for byte.
    let body = request_of(fixture("url-post-gzip.json")).unwrap().body;
    assert_eq!(&body[..2], b"\x1f\x8b");
    assert_eq!(block_on(store.get(&raw[0])).unwrap(), Some(body));

    let reports = keys(store, "reports/");
    assert_eq!(reports.len(), 1, "{reports:?}");
    assert!(
        reports[0].starts_with("reports/v1/day=2024-11-08/domain=eden.one/"),
        "{reports:?}"
    );
    let source = &json_at(store, &reports[0])["source"];
    assert_eq!(source["channel"], "https");
    assert_eq!(source["client"], "203.0.113.25");
    assert_eq!(source["user_agent"], "Google-TLSRPT-Reporter");
    assert_eq!(source["raw_key"], raw[0].as_str());

    let second = handle(&handler, fixture("url-post-gzip.json"));
    assert_eq!(second.url.status_code, 200, "{}", second.answer.log);
    assert_eq!(second.url.body.as_deref(), Some("already stored\n"));
    assert_eq!(keys(store, "reports/"), reports);
    assert_eq!(keys(store, "raw/https/"), raw);
    assert!(keys(store, "rejected/").is_empty());
}

#[test]
fn a_json_post_not_base64_encoded_is_stored_with_an_ipv6_client() {
    let handler = Handler::new(MemoryStore::new(), config(&[]));
    let r = handle(&handler, fixture("url-post-json.json"));
    assert_eq!(r.url.status_code, 201, "{}", r.answer.log);
    let store = handler.store();
    let reports = keys(store, "reports/");
    assert_eq!(reports.len(), 1);
    let report = json_at(store, &reports[0]);
    assert_eq!(report["source"]["client"], "2001:db8:4::1b");
    assert_eq!(report["source"]["user_agent"], "Microsoft-TLSRPT/1.0");
    assert!(
        report["organization"].as_str().unwrap().contains("Microsoft"),
        "{}",
        report["organization"]
    );
}

#[test]
fn get_is_405_with_allow_and_nothing_is_kept() {
    let handler = Handler::new(MemoryStore::new(), config(&[]));
    let r = handle(&handler, fixture("url-get.json"));
    assert_eq!(r.url.status_code, 405);
    assert_eq!(header(&r, "allow"), Some("POST"));
    assert!(keys(handler.store(), "").is_empty());
}

#[test]
fn garbage_is_400_with_a_reason_recorded_and_no_request_text_in_the_answer() {
    let handler = Handler::new(MemoryStore::new(), config(&[]));
    let r = handle(&handler, fixture("url-post-garbage.json"));
    assert_eq!(r.url.status_code, 400, "{}", r.answer.log);
    let body = r.url.body.clone().unwrap();
    assert!(body.starts_with("not a usable report: "), "{body}");
    // The fixture's path holds CR, LF, ESC and U+2028, its User-Agent U+202E,
    // and one header name a strict HTTP library refuses (read all the same).
    for c in ['\u{202e}', '\n', '\r', '\u{1b}', '\u{2028}'] {
        assert!(!r.answer.log.contains(c), "{c:?} in {:?}", r.answer.log);
    }
    assert!(r.answer.log.contains("X-Evil"), "{:?}", r.answer.log);
    assert!(!body.contains('<'), "{body:?}");
    let store = handler.store();
    assert!(keys(store, "reports/").is_empty());
    // The body is kept raw and the rejection names it.
    assert_eq!(keys(store, "raw/https/").len(), 1);
    let rejected = keys(store, "rejected/");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let rec = json_at(store, &rejected[0]);
    let reason = rec["reason"].as_str().unwrap();
    assert!(body.contains(reason), "{body} / {reason}");
    let ua = rec["input"]["user_agent"].as_str().unwrap();
    assert!(!ua.contains('\u{202e}'), "{ua:?}");
}

#[test]
fn a_secret_path_is_required_when_a_token_is_set() {
    let token = "Q7vN2kLp9xRt4WzY8cBd";
    let handler = Handler::new(MemoryStore::new(), config(&[("STSGUARD_RECEIVE_TOKEN", token)]));
    let wrong = handle(&handler, fixture("url-post-gzip.json"));
    assert_eq!(wrong.url.status_code, 404);
    assert!(keys(handler.store(), "").is_empty());
    let right = handle(&handler, fixture("url-post-token.json"));
    assert_eq!(right.url.status_code, 201, "{}", right.answer.log);
    assert!(!right.answer.log.contains(token), "{}", right.answer.log);
    let reports = keys(handler.store(), "reports/");
    let input = json_at(handler.store(), &reports[0])["source"]["input"].clone();
    assert!(!input.as_str().unwrap().contains(token), "{input}");
}

#[test]
fn an_oversize_body_is_413_recorded_once_under_its_hash_and_not_kept() {
    let handler = Handler::new(MemoryStore::new(), config(&[("STSGUARD_MAX_BODY_BYTES", "200")]));
    for _ in 0..2 {
        let r = handle(&handler, fixture("url-post-gzip.json"));
        assert_eq!(r.url.status_code, 413, "{}", r.answer.log);
        assert_eq!(
            r.url.body.as_deref(),
            Some("the report is larger than 200 bytes\n")
        );
    }
    let store = handler.store();
    assert!(keys(store, "raw/").is_empty());
    assert!(keys(store, "reports/").is_empty());
    let rejected = keys(store, "rejected/");
    assert_eq!(rejected.len(), 1, "a redelivery is recorded once: {rejected:?}");
    let body = request_of(fixture("url-post-gzip.json")).unwrap().body;
    assert!(rejected[0].contains(&stsguard::sha256_hex(&body)), "{rejected:?}");
    assert_eq!(json_at(store, &rejected[0])["reason"], "too-large");
}

#[test]
fn an_unexpected_domain_is_403() {
    let handler = Handler::new(MemoryStore::new(), config(&[("STSGUARD_DOMAINS", "example.org")]));
    let r = handle(&handler, fixture("url-post-gzip.json"));
    assert_eq!(r.url.status_code, 403, "{}", r.answer.log);
    assert_eq!(
        r.url.body.as_deref(),
        Some("not a usable report: unexpected-domain\n")
    );
    assert!(keys(handler.store(), "reports/").is_empty());
    assert_eq!(keys(handler.store(), "rejected/").len(), 1);
}

/// A store whose writes fail while `down` is set.
struct Flaky {
    inner: MemoryStore,
    down: AtomicUsize,
}

impl ObjectStore for Flaky {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }
    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<PutOutcome, StoreError> {
        // The raw body goes through; the report write fails.
        if self.down.load(Ordering::SeqCst) > 0 && !key.starts_with("raw/") {
            return Err(StoreError::Remote {
                op: "put",
                key: key.to_owned(),
                source: Box::new(std::io::Error::other("endpoint down")),
            });
        }
        self.inner.put_if_absent(key, body).await
    }
    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.inner.put(key, body).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
}

#[test]
fn a_storage_failure_is_503_with_retry_after_and_the_retry_stores_the_report_once() {
    let handler = Handler::new(
        Flaky {
            inner: MemoryStore::new(),
            down: AtomicUsize::new(1),
        },
        config(&[]),
    );
    let r = handle(&handler, fixture("url-post-gzip.json"));
    assert_eq!(r.url.status_code, 503, "{}", r.answer.log);
    assert_eq!(header(&r, "retry-after"), Some("60"));
    assert!(r.answer.log.contains("endpoint down"), "{}", r.answer.log);
    let emf: Value = serde_json::from_str(&emf_line(&r.answer, 1)).unwrap();
    assert_eq!(
        (emf["StorageFailures"].as_u64(), emf["ReportsStored"].as_u64()),
        (Some(1), Some(0))
    );
    assert!(block_on(handler.store().inner.list("reports/"))
        .unwrap()
        .is_empty());

    handler.store().down.store(0, Ordering::SeqCst);
    let retry = handle(&handler, fixture("url-post-gzip.json"));
    assert_eq!(retry.url.status_code, 201, "{}", retry.answer.log);
    let again = handle(&handler, fixture("url-post-gzip.json"));
    assert_eq!(again.url.status_code, 200, "{}", again.answer.log);
    assert_eq!(block_on(handler.store().inner.list("reports/")).unwrap().len(), 1);
    assert_eq!(
        block_on(handler.store().inner.list("raw/https/")).unwrap().len(),
        1
    );
}

#[test]
fn events_of_another_shape_fail_the_invocation() {
    let handler = Handler::new(MemoryStore::new(), config(&[]));
    let ses = serde_json::json!({"Records": [{"eventSource": "aws:ses"}]});
    let err = block_on(handler.handle(ses, now())).unwrap_err();
    assert!(matches!(err, EventError::Malformed(_)), "{err}");

    let mut no_method = fixture("url-post-gzip.json");
    no_method["requestContext"]["http"]
        .as_object_mut()
        .unwrap()
        .remove("method");
    assert!(request_of(no_method).is_err());

    let mut bad_base64 = fixture("url-post-gzip.json");
    bad_base64["body"] = Value::from("***not base64***");
    let err = request_of(bad_base64).unwrap_err();
    assert!(err.to_string().contains("base64"), "{err}");
    assert!(keys(handler.store(), "").is_empty());
}

#[test]
fn the_request_parts_come_from_the_event() {
    let r = request_of(fixture("url-post-json.json")).unwrap();
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1");
    assert_eq!(r.content_type.as_deref(), Some("application/tlsrpt+json"));
    assert_eq!(r.client.as_deref(), Some("2001:db8:4::1b"));
    assert!(r.body.starts_with(b"{"));
    let get = request_of(fixture("url-get.json")).unwrap();
    assert_eq!(
        (get.method.as_str(), get.path.as_str(), get.body.len()),
        ("GET", "/", 0)
    );
}

#[test]
fn metrics_count_each_answer_class() {
    let handler = Handler::new(MemoryStore::new(), config(&[]));
    let mut seen = Vec::new();
    for name in [
        "url-post-gzip.json",
        "url-post-gzip.json",
        "url-post-garbage.json",
        "url-get.json",
    ] {
        let r = handle(&handler, fixture(name));
        let emf: Value = serde_json::from_str(&emf_line(&r.answer, 1_731_121_967_000)).unwrap();
        assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "stsguard");
        assert_eq!(emf["Function"], "receive");
        assert_eq!(emf["Requests"], 1);
        seen.push(
            ["ReportsStored", "Duplicates", "Refused", "StorageFailures"].map(|m| emf[m].as_u64().unwrap()),
        );
    }
    assert_eq!(seen, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 0]]);
}

#[test]
fn configuration_defaults_and_errors() {
    let c = config(&[]);
    assert_eq!(c.bucket, "reports-bucket");
    assert_eq!(c.store_prefix, "");
    assert_eq!(c.receive.token, None);
    assert_eq!(c.receive.max_body_bytes, stsguard::receive::MAX_BODY_BYTES);
    assert_eq!(c.receive.ingest.allowed_domains, None);
    assert!(!c.path_style);

    let c = config(&[
        ("STSGUARD_STORE_PREFIX", "/tlsrpt/"),
        ("STSGUARD_RECEIVE_TOKEN", " Q7vN2kLp9xRt4WzY8cBd "),
        ("STSGUARD_DOMAINS", "Eden.One.,example.org"),
        ("STSGUARD_MAX_BODY_BYTES", "1048576"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
    ]);
    assert_eq!(c.store_prefix, "tlsrpt/");
    assert_eq!(c.receive.token.as_deref(), Some("Q7vN2kLp9xRt4WzY8cBd"));
    assert_eq!(
        c.receive.ingest.allowed_domains,
        Some(vec!["eden.one".to_owned(), "example.org".to_owned()])
    );
    assert_eq!(c.receive.max_body_bytes, 1 << 20);
    assert!(c.path_style);

    let err = |vars: &[(&str, &str)]| {
        Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())).unwrap_err()
    };
    assert_eq!(err(&[]), ConfigError::Missing("STSGUARD_BUCKET"));
    assert!(matches!(
        err(&[("STSGUARD_BUCKET", "s3://b/p")]),
        ConfigError::Invalid {
            name: "STSGUARD_BUCKET",
            ..
        }
    ));
    let bad_token = err(&[
        ("STSGUARD_BUCKET", "b"),
        ("STSGUARD_RECEIVE_TOKEN", "secret/with/slashes"),
    ]);
    assert!(matches!(
        bad_token,
        ConfigError::Invalid {
            name: "STSGUARD_RECEIVE_TOKEN",
            ..
        }
    ));
    assert!(
        !bad_token.to_string().contains("secret/with"),
        "the token is not repeated: {bad_token}"
    );
    assert!(matches!(
        err(&[("STSGUARD_BUCKET", "b"), ("STSGUARD_MAX_BODY_BYTES", "ten")]),
        ConfigError::Invalid {
            name: "STSGUARD_MAX_BODY_BYTES",
            ..
        }
    ));
    assert!(matches!(
        err(&[("STSGUARD_BUCKET", "b"), ("STSGUARD_DOMAINS", "not a domain")]),
        ConfigError::Invalid {
            name: "STSGUARD_DOMAINS",
            ..
        }
    ));
}
