//! The HTTPS receiver's request handling (`receive::handle`) over a memory
//! store: every answer, what is kept for each, and hostile request text.

use std::io::Write;
use std::path::Path;

use stsguard::receive::{self, ReceiveConfig, Request, Response};
use stsguard::store::{MemoryStore, ObjectStore, PutOutcome, StoreError};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_121_967, 0).unwrap()
}

fn report_json() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus/seed-google-eden.json"))
        .unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn post<'a>(body: &'a [u8], content_type: &'a str) -> Request<'a> {
    Request {
        method: "POST",
        path: "/v1",
        content_type: Some(content_type),
        body,
        truncated_size: None,
        client: Some("192.0.2.7"),
        user_agent: Some("Google-TLSRPT"),
    }
}

fn handle(store: &impl ObjectStore, req: &Request<'_>, config: &ReceiveConfig) -> Response {
    block_on(receive::handle(store, req, config, now()))
}

fn keys(store: &MemoryStore, prefix: &str) -> Vec<String> {
    block_on(store.list(prefix)).unwrap()
}

fn json_at(store: &MemoryStore, key: &str) -> serde_json::Value {
    serde_json::from_slice(&block_on(store.get(key)).unwrap().unwrap()).unwrap()
}

#[test]
fn a_gzip_report_is_kept_raw_then_stored_and_a_second_post_is_a_duplicate() {
    let store = MemoryStore::new();
    let config = ReceiveConfig::default();
    let body = gzip(&report_json());
    let r = handle(&store, &post(&body, "application/tlsrpt+gzip"), &config);
    assert_eq!(
        (r.status, r.body.as_str()),
        (201, "stored 1 report\n"),
        "{}",
        r.log
    );

    let raw = keys(&store, "raw/https/");
    assert_eq!(
        raw,
        [receive::raw_key("2024-11-09", &stsguard::sha256_hex(&body))]
    );
    assert_eq!(block_on(store.get(&raw[0])).unwrap(), Some(body.clone()));
    let reports = keys(&store, "reports/");
    assert_eq!(reports.len(), 1);
    let stored = json_at(&store, &reports[0]);
    assert_eq!(stored["source"]["channel"], "https");
    assert_eq!(stored["source"]["client"], "192.0.2.7");
    assert_eq!(stored["source"]["user_agent"], "Google-TLSRPT");
    assert_eq!(stored["source"]["raw_key"], raw[0].as_str());
    assert_eq!(stored["source"]["compression"], "gzip");
    // No DKIM over HTTPS: no "unauthenticated" warning.
    assert!(
        !stored["warnings"].to_string().contains("unauthenticated"),
        "{}",
        stored["warnings"]
    );

    let again = handle(&store, &post(&body, "application/tlsrpt+gzip"), &config);
    assert_eq!((again.status, again.body.as_str()), (200, "already stored\n"));
    assert_eq!(keys(&store, "reports/").len(), 1);
    assert_eq!(keys(&store, "raw/").len(), 1);
}

#[test]
fn json_bodies_and_unexpected_media_types_are_read_by_their_content() {
    let store = MemoryStore::new();
    let config = ReceiveConfig::default();
    let r = handle(&store, &post(&report_json(), "application/tlsrpt+json"), &config);
    assert_eq!(r.status, 201, "{}", r.log);
    assert!(!r.log.contains("unexpected Content-Type"), "{}", r.log);

    let other = String::from_utf8(report_json())
        .unwrap()
        .replace("2024-11-08T00:00:00Z_eden.one", "other-id");
    let body = gzip(other.as_bytes());
    let r = handle(&store, &post(&body, "text/html"), &config);
    assert_eq!(r.status, 201, "{}", r.log);
    assert!(
        r.log.ends_with("(unexpected Content-Type text/html)"),
        "{}",
        r.log
    );
    assert_eq!(keys(&store, "reports/").len(), 2);
}

#[test]
fn unusable_bodies_get_a_4xx_reason_and_are_still_recorded() {
    let store = MemoryStore::new();
    let config = ReceiveConfig::default();
    for (body, ctype, status, reason) in [
        (
            b"{\"hello\": 1}".to_vec(),
            "application/tlsrpt+json",
            400,
            "not a usable report: bad-report",
        ),
        (
            b"\x1f\x8b\x08\x00garbage".to_vec(),
            "application/tlsrpt+gzip",
            400,
            "not a usable report: bad-gzip",
        ),
        (
            b"<html>".to_vec(),
            "text/html",
            400,
            "not a usable report: bad-json",
        ),
        // The empty POST of `stsguard check` (NET009): a 4xx that shows the endpoint exists.
        (Vec::new(), "application/tlsrpt+gzip", 400, "not a usable report"),
    ] {
        let r = handle(&store, &post(&body, ctype), &config);
        assert_eq!(
            r.status,
            status,
            "{:?}: {}",
            String::from_utf8_lossy(&body),
            r.log
        );
        assert!(
            r.body.starts_with(reason),
            "{:?}: {}",
            String::from_utf8_lossy(&body),
            r.body
        );
    }
    assert!(keys(&store, "reports/").is_empty());
    let rejected = keys(&store, "rejected/");
    assert_eq!(rejected.len(), 4, "{rejected:?}");
    for k in &rejected {
        let rec = json_at(&store, k);
        assert_eq!(rec["input"]["channel"], "https", "{rec}");
        assert_eq!(rec["input"]["client"], "192.0.2.7", "{rec}");
    }
    // Each body was kept raw before it was judged.
    assert_eq!(keys(&store, "raw/https/").len(), 4);
}

#[test]
fn an_oversize_body_is_413_and_recorded_without_keeping_it() {
    let store = MemoryStore::new();
    let config = ReceiveConfig::default();
    let cap = config.max_body_bytes;
    let part = vec![b'x'; 1024];
    let req = Request {
        truncated_size: Some(cap as u64 + 5000),
        ..post(&part, "application/tlsrpt+gzip")
    };
    let r = handle(&store, &req, &config);
    assert_eq!(r.status, 413, "{}", r.log);
    assert!(keys(&store, "raw/").is_empty());
    let rejected = keys(&store, "rejected/");
    assert_eq!(rejected.len(), 1);
    let rec = json_at(&store, &rejected[0]);
    assert_eq!(rec["reason"], "too-large");
    assert_eq!(rec["input"]["bytes"], cap as u64 + 5000);
}

#[test]
fn other_methods_get_405_and_a_wrong_secret_404_with_nothing_stored() {
    let store = MemoryStore::new();
    let body = gzip(&report_json());
    let r = handle(
        &store,
        &Request {
            method: "GET",
            ..post(&body, "")
        },
        &ReceiveConfig::default(),
    );
    assert_eq!((r.status, r.allow), (405, Some("POST")));

    let config = ReceiveConfig {
        token: Some("s3cr3t-Token".into()),
        ..ReceiveConfig::default()
    };
    for path in [
        "/v1",
        "/s3cr3t-Toke/v1",
        "/s3cr3t-Token1/v1",
        "/S3CR3T-TOKEN/v1",
        "/",
        "",
    ] {
        let r = handle(
            &store,
            &Request {
                path,
                ..post(&body, "application/tlsrpt+gzip")
            },
            &config,
        );
        assert_eq!(r.status, 404, "{path}");
    }
    assert!(keys(&store, "").is_empty());
    let r = handle(
        &store,
        &Request {
            path: "/s3cr3t-Token/v1",
            ..post(&body, "application/tlsrpt+gzip")
        },
        &config,
    );
    assert_eq!(r.status, 201, "{}", r.log);
    // The secret reaches neither the log nor the stored report.
    assert!(!r.log.contains("s3cr3t"), "{}", r.log);
    let stored = json_at(&store, &keys(&store, "reports/")[0]);
    assert!(!stored.to_string().contains("s3cr3t"), "{stored}");
    assert_eq!(stored["source"]["input"], "POST /<secret>/v1");

    assert!(receive::token_matches("/abc/v1", "abc"));
    assert!(receive::token_matches("abc", "abc"));
    assert!(!receive::token_matches("/abc/v1", ""));
    assert!(!receive::token_matches("/abcd/v1", "abc"));
}

#[test]
fn hostile_request_text_is_escaped_in_the_log_and_the_records() {
    let store = MemoryStore::new();
    let body = b"not a report".to_vec();
    let req = Request {
        path: "/v1\r\nX-Injected: 1<script>",
        client: Some("198.51.100.1\nforged line"),
        user_agent: Some("Evil\r\nBcc: x@example.com\u{7}"),
        ..post(&body, "text/plain\r\nX: y")
    };
    let r = handle(&store, &req, &ReceiveConfig::default());
    assert_eq!(r.status, 400);
    assert!(
        !r.log.contains('\n') && !r.log.contains('\r') && !r.log.contains('\u{7}'),
        "{:?}",
        r.log
    );
    assert!(
        !r.body.contains("script") && !r.body.contains("Evil"),
        "{:?}",
        r.body
    );
    let rec = json_at(&store, &keys(&store, "rejected/")[0]);
    for v in [
        &rec["input"]["client"],
        &rec["input"]["user_agent"],
        &rec["input"]["input"],
    ] {
        let s = v.as_str().unwrap();
        assert!(!s.contains('\n') && !s.contains('\r'), "{s:?}");
    }
}

/// A store whose writes fail after `ok` of them.
struct Failing {
    inner: MemoryStore,
    ok: std::sync::atomic::AtomicUsize,
}

impl ObjectStore for Failing {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }
    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<PutOutcome, StoreError> {
        use std::sync::atomic::Ordering;
        if self
            .ok
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_err()
        {
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
fn a_storage_failure_is_503_and_a_retry_stores_the_report_once() {
    let body = gzip(&report_json());
    for ok in [0, 1] {
        let store = Failing {
            inner: MemoryStore::new(),
            ok: ok.into(),
        };
        let r = handle(
            &store,
            &post(&body, "application/tlsrpt+gzip"),
            &ReceiveConfig::default(),
        );
        assert_eq!((r.status, r.retry_after), (503, Some(60)), "{}", r.log);
        assert!(r.log.contains("endpoint down"), "{}", r.log);
        // No report was written; the raw body may have been.
        assert!(block_on(store.inner.list("reports/")).unwrap().is_empty());
        // The sender retries once storage is back.
        store.ok.store(10, std::sync::atomic::Ordering::SeqCst);
        let r = handle(
            &store,
            &post(&body, "application/tlsrpt+gzip"),
            &ReceiveConfig::default(),
        );
        assert_eq!(r.status, 201, "{}", r.log);
        assert_eq!(block_on(store.inner.list("reports/")).unwrap().len(), 1);
        assert_eq!(block_on(store.inner.list("raw/")).unwrap().len(), 1);
    }
}

#[test]
fn a_report_that_came_by_mail_and_comes_again_over_https_is_stored_once() {
    use stsguard::ingest::{self, IngestConfig, InputContext, InputKind};
    let store = MemoryStore::new();
    let mail = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/google-eden.eml")).unwrap();
    let ctx = InputContext {
        channel: "ses".into(),
        ..InputContext::default()
    };
    let prepared = ingest::prepare(&mail, InputKind::Mail, &ctx, &IngestConfig::default(), now());
    let by_mail = block_on(ingest::store_prepared(&store, prepared)).unwrap();
    assert_eq!(by_mail.written.len(), 1, "{by_mail:?}");

    let body = gzip(&report_json());
    let r = handle(
        &store,
        &post(&body, "application/tlsrpt+gzip"),
        &ReceiveConfig::default(),
    );
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, "already stored\n"),
        "{}",
        r.log
    );
    let reports = keys(&store, "reports/");
    assert_eq!(reports.len(), 1);
    // The first delivery is the one kept, and no conflict is recorded.
    assert_eq!(json_at(&store, &reports[0])["source"]["channel"], "ses");
    assert!(keys(&store, "rejected/").is_empty());
}

/// The google-eden mail as SES delivers it, with its DKIM verdict.
fn mail_with_dkim(store: &MemoryStore, dkim: &str) -> stsguard::ingest::Outcome {
    use stsguard::ingest::{self, IngestConfig, InputContext, InputKind};
    let mail = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/google-eden.eml")).unwrap();
    let ctx = InputContext {
        channel: "ses".into(),
        verdicts: Some(stsguard::report::Verdicts {
            dkim: Some(dkim.into()),
            ..Default::default()
        }),
        ..InputContext::default()
    };
    let prepared = ingest::prepare(&mail, InputKind::Mail, &ctx, &IngestConfig::default(), now());
    block_on(ingest::store_prepared(store, prepared)).unwrap()
}

/// The google-eden report with other counts: what anyone could POST first.
fn forged() -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(&report_json()).unwrap();
    v["policies"][0]["summary"]["total-successful-session-count"] = 12345.into();
    gzip(&serde_json::to_vec(&v).unwrap())
}

#[test]
fn a_dkim_verified_mail_report_replaces_a_different_one_posted_first() {
    let store = MemoryStore::new();
    let r = handle(
        &store,
        &post(&forged(), "application/tlsrpt+gzip"),
        &ReceiveConfig::default(),
    );
    assert_eq!(r.status, 201, "{}", r.log);
    let key = keys(&store, "reports/").pop().unwrap();
    assert_eq!(json_at(&store, &key)["source"]["channel"], "https");

    let o = mail_with_dkim(&store, "pass");
    assert_eq!((o.written.len(), o.conflicts.len()), (1, 0), "{o:?}");
    assert_eq!(keys(&store, "reports/"), std::slice::from_ref(&key));
    let stored = json_at(&store, &key);
    assert_eq!(stored["source"]["channel"], "ses");
    assert_eq!(stored["policies"][0]["successful"], 1);
    // The HTTPS delivery is kept aside, and its raw body is still there.
    let rejected = keys(&store, "rejected/");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let record = json_at(&store, &rejected[0]);
    assert_eq!(record["reason"], "unauthenticated-replaced");
    assert_eq!(record["dropped"]["channel"], "https");
    assert_eq!(record["kept"]["channel"], "ses");
    assert_eq!(keys(&store, "raw/https/").len(), 1);
    // The same mail again is a duplicate of what is now stored.
    let again = mail_with_dkim(&store, "pass");
    assert_eq!(again.duplicates.len(), 1, "{again:?}");
}

#[test]
fn without_a_dkim_pass_or_when_mail_came_first_the_first_delivery_stays() {
    // Mail without a passing DKIM verdict does not displace an HTTPS report.
    let store = MemoryStore::new();
    handle(
        &store,
        &post(&forged(), "application/tlsrpt+gzip"),
        &ReceiveConfig::default(),
    );
    let o = mail_with_dkim(&store, "fail");
    assert_eq!((o.written.len(), o.conflicts.len()), (0, 1), "{o:?}");
    let key = keys(&store, "reports/").pop().unwrap();
    assert_eq!(json_at(&store, &key)["source"]["channel"], "https");

    // A POST never displaces a stored mail report.
    let store = MemoryStore::new();
    mail_with_dkim(&store, "pass");
    let r = handle(
        &store,
        &post(&forged(), "application/tlsrpt+gzip"),
        &ReceiveConfig::default(),
    );
    assert_eq!(r.status, 200, "{}", r.log);
    let key = keys(&store, "reports/").pop().unwrap();
    assert_eq!(json_at(&store, &key)["source"]["channel"], "ses");
    let record = json_at(&store, &keys(&store, "rejected/")[0]);
    assert_eq!(record["reason"], "conflicting-redelivery");
}
