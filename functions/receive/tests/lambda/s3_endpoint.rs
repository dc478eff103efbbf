//! The handler against a real S3 API: a local moto server reached through the
//! real AWS SDK (path-style, dummy credentials). `.ci/run` starts the server
//! (`.ci/moto.sh`) and runs these tests by name with `--ignored`; locally:
//!
//! ```sh
//! eval "$(.ci/moto.sh start)"   # prints the AWS_* exports
//! cargo test -p stsguard-receive --test lambda s3_endpoint -- --ignored
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use stsguard::store::s3::S3Store;
use stsguard::store::ObjectStore;
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

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn s3_endpoint_down_is_503_nothing_half_written_and_the_retry_stores_once() {
    let client = stsguard_test_support::s3::client().await;
    // The bucket does not exist yet: every write fails as it would with S3 down.
    let bucket = format!("stsguard-{}", stsguard_test_support::s3::unique("receive-down"));
    let handler = Handler::s3(client.clone(), config(&bucket, ""));
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

    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let store = S3Store::new(client.clone(), &bucket, "");
    assert!(
        store.list("").await.unwrap().is_empty(),
        "nothing was half-written"
    );
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
}
