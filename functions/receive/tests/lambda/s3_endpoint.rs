//! The handler against a real S3 API: a local moto server reached through the
//! real AWS SDK (path-style, dummy credentials). `.ci/run` starts the server
//! (`.ci/moto.sh`) and runs these tests by name with `--ignored`; locally:
//!
//! ```sh
//! eval "$(.ci/moto.sh start)"   # prints the AWS_* exports
//! cargo test -p stsguard-receive --test lambda s3_endpoint -- --ignored
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::sync::atomic::{AtomicBool, Ordering};

use stsguard::store::s3::S3Store;
use stsguard::store::{ObjectStore, PutOutcome, StoreError};
use stsguard_receive::{Config, Handler};

use crate::events::fixture;

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_121_967, 0).unwrap()
}

fn config(bucket: &str, prefix: &str) -> Config {
    Config::from_lookup(|k| match k {
        "STSGUARD_BUCKET" => Some(bucket.to_owned()),
        "STSGUARD_STORE_PREFIX" => Some(prefix.to_owned()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn s3_endpoint_each_answer_and_what_lands_in_the_bucket() {
    let client = stsguard_test_support::s3::client().await;
    let bucket = stsguard_test_support::s3::bucket(&client, "receive").await;
    let handler = Handler::s3(client.clone(), config(&bucket, "tlsrpt"));
    let mut statuses = Vec::new();
    for name in [
        "url-post-gzip.json",
        "url-post-gzip.json",
        "url-post-json.json",
        "url-post-garbage.json",
        "url-get.json",
    ] {
        let h = handler.handle(fixture(name), now()).await.unwrap();
        statuses.push(h.url.status_code);
    }
    assert_eq!(statuses, [201, 200, 201, 400, 405]);

    let all = S3Store::new(client.clone(), &bucket, "").list("").await.unwrap();
    assert!(all.iter().all(|k| k.starts_with("tlsrpt/")), "{all:?}");
    let count = |p: &str| all.iter().filter(|k| k.starts_with(p)).count();
    assert_eq!(count("tlsrpt/raw/https/day=2024-11-09/"), 3, "{all:?}");
    assert_eq!(count("tlsrpt/reports/v1/"), 2, "{all:?}");
    assert_eq!(count("tlsrpt/rejected/"), 1, "{all:?}");
    assert_eq!(all.len(), 6, "{all:?}");

    let store = S3Store::new(client, &bucket, "tlsrpt/");
    let report = all.iter().find(|k| k.contains("domain=eden.one/")).unwrap();
    let body = store
        .get(report.trim_start_matches("tlsrpt/"))
        .await
        .unwrap()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["source"]["channel"], "https");
}

/// The real S3 store, with writes outside `raw/` failing while `down` is
/// set: the raw body is written, the report is not.
struct ReportsDown {
    inner: S3Store,
    down: AtomicBool,
}

impl ObjectStore for ReportsDown {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get(key).await
    }
    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<PutOutcome, StoreError> {
        if self.down.load(Ordering::SeqCst) && !key.starts_with("raw/") {
            return Err(StoreError::Remote {
                op: "put",
                key: key.to_owned(),
                source: Box::new(std::io::Error::other("S3 unavailable")),
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

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn s3_endpoint_down_is_503_nothing_half_written_and_the_retry_stores_once() {
    let client = stsguard_test_support::s3::client().await;
    // A bucket that does not exist: the first write fails, nothing is written.
    let missing = format!(
        "stsguard-{}",
        stsguard_test_support::s3::unique("receive-missing")
    );
    let handler = Handler::s3(client.clone(), config(&missing, ""));
    let down = handler
        .handle(fixture("url-post-gzip.json"), now())
        .await
        .unwrap();
    assert_eq!(down.url.status_code, 503, "{}", down.answer.log);
    assert_eq!(
        down.url.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("60")
    );
    assert!(down.answer.log.contains("storage failed"), "{}", down.answer.log);

    // The raw body goes in, the report write fails: 503, the raw body is
    // there, no report or record is; the retry stores the report once.
    let bucket = stsguard_test_support::s3::bucket(&client, "receive-down").await;
    let handler = Handler::new(
        ReportsDown {
            inner: S3Store::new(client.clone(), &bucket, ""),
            down: AtomicBool::new(true),
        },
        config(&bucket, ""),
    );
    let half = handler
        .handle(fixture("url-post-gzip.json"), now())
        .await
        .unwrap();
    assert_eq!(half.url.status_code, 503, "{}", half.answer.log);
    let store = S3Store::new(client.clone(), &bucket, "");
    let all = store.list("").await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(all[0].starts_with("raw/https/day=2024-11-09/"), "{all:?}");

    handler.store().down.store(false, Ordering::SeqCst);
    let retry = handler
        .handle(fixture("url-post-gzip.json"), now())
        .await
        .unwrap();
    assert_eq!(retry.url.status_code, 201, "{}", retry.answer.log);
    let again = handler
        .handle(fixture("url-post-gzip.json"), now())
        .await
        .unwrap();
    assert_eq!(again.url.status_code, 200, "{}", again.answer.log);
    assert_eq!(store.list("reports/").await.unwrap().len(), 1);
    assert_eq!(store.list("raw/https/").await.unwrap().len(), 1);
    assert!(store.list("rejected/").await.unwrap().is_empty());
}
