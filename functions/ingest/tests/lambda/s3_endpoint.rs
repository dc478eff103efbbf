//! The handler against a real S3 API: a local moto server reached through the
//! real AWS SDK (path-style, dummy credentials). `.ci/run` starts the server
//! (`.ci/moto.sh`) and runs these tests by name with `--ignored`; locally:
//!
//! ```sh
//! eval "$(.ci/moto.sh start)"   # prints the AWS_* exports
//! cargo test -p stsguard-ingest --test lambda s3_endpoint -- --ignored
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use lambda_runtime::Diagnostic;
use serde_json::Value;
use stsguard::ingest::RejectedRecord;
use stsguard::report::NormalizedReport;
use stsguard::store::s3::S3Store;
use stsguard::store::{ObjectStore, PutOutcome};
use stsguard_ingest::{Config, Handler, HandlerError};

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_121_967, 0).unwrap()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("shared/samples").join(name)).unwrap()
}

fn fixture(name: &str, bucket: &str) -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
    .replace("stsguard-test-bucket", bucket);
    serde_json::from_str(&text).unwrap()
}

async fn client() -> Client {
    stsguard_test_support::s3::client().await
}

/// A fresh bucket with a name unique to this test run.
async fn bucket(client: &Client, tag: &str) -> String {
    stsguard_test_support::s3::bucket(client, tag).await
}

async fn put(client: &Client, bucket: &str, key: &str, body: Vec<u8>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
}

fn config(bucket: &str) -> Config {
    Config::from_lookup(|k| match k {
        "STSGUARD_BUCKET" => Some(bucket.to_owned()),
        _ => None,
    })
    .unwrap()
}

async fn all_keys(client: &Client, bucket: &str) -> Vec<String> {
    S3Store::new(client.clone(), bucket, "").list("").await.unwrap()
}

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn ses_event_end_to_end_and_redelivery() {
    let client = client().await;
    let b = bucket(&client, "ses").await;
    // As SES's S3 action writes it: prefix + messageId.
    put(
        &client,
        &b,
        "incoming/k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81",
        sample("google-eden.eml"),
    )
    .await;
    let handler = Handler::s3(client.clone(), config(&b));
    let event = fixture("ses-lambda-action.json", &b);

    let resp = handler.handle(event.clone(), now()).await.unwrap();
    assert_eq!(resp.disposition, "CONTINUE");
    assert_eq!(resp.items.len(), 1);
    assert_eq!(
        (resp.items[0].written.len(), resp.items[0].duplicates.len()),
        (1, 0)
    );

    let store = S3Store::new(client.clone(), &b, "");
    let keys = store.list("reports/v1/").await.unwrap();
    assert_eq!(
        keys,
        [format!(
            "reports/v1/day=2024-11-08/domain=eden.one/{}.json",
            resp.items[0].written[0]
        )]
    );
    let r: NormalizedReport = serde_json::from_slice(&store.get(&keys[0]).await.unwrap().unwrap()).unwrap();
    assert_eq!(r.source.channel, "ses");
    assert_eq!(
        r.source.ses_message_id.as_deref(),
        Some("k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81")
    );
    assert_eq!(
        r.source.raw_key.as_deref(),
        Some("incoming/k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81")
    );
    assert_eq!(r.source.verdicts.dkim.as_deref(), Some("pass"));
    assert_eq!(r.source.verdicts.spam.as_deref(), Some("pass"));
    assert!(r
        .source
        .envelope_from
        .as_deref()
        .unwrap()
        .ends_with("bounces.google.com"));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);

    // Redelivery (Lambda's async retry, or SES delivering twice): one object.
    let again = handler.handle(event, now()).await.unwrap();
    assert_eq!(
        (again.items[0].written.len(), again.items[0].duplicates.len()),
        (0, 1)
    );
    assert_eq!(all_keys(&client, &b).await.len(), 2, "raw mail + one report");
}

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn s3_event_ingests_and_quarantines() {
    let client = client().await;
    let b = bucket(&client, "s3ev").await;
    put(
        &client,
        &b,
        "incoming/m1crosoft0report7mail2id",
        sample("microsoft-eden.eml"),
    )
    .await;
    put(
        &client,
        &b,
        "incoming/replay/broken mail!.eml",
        sample("broken-truncated-gzip.eml"),
    )
    .await;
    let handler = Handler::s3(client.clone(), config(&b));
    let resp = handler
        .handle(fixture("s3-object-created.json", &b), now())
        .await
        .unwrap();
    assert_eq!(resp.items.len(), 2);
    assert_eq!(resp.items[0].written.len(), 1);
    assert_eq!(resp.items[1].rejected.as_deref(), Some("bad-gzip"));

    let store = S3Store::new(client.clone(), &b, "");
    let rejected = store.list("rejected/").await.unwrap();
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0].starts_with("rejected/day=2024-11-09/"),
        "{}",
        rejected[0]
    );
    let rec: RejectedRecord =
        serde_json::from_slice(&store.get(&rejected[0]).await.unwrap().unwrap()).unwrap();
    assert_eq!(
        rec.input.raw_key.as_deref(),
        Some("incoming/replay/broken mail!.eml")
    );
    assert_eq!(rec.input.channel, "s3");

    // The S3 path has no SES event: verdicts come from the stored mail's headers
    // (none in this sample), and the report is flagged as unauthenticated.
    let reports = store.list("reports/").await.unwrap();
    let r: NormalizedReport =
        serde_json::from_slice(&store.get(&reports[0]).await.unwrap().unwrap()).unwrap();
    assert!(r
        .warnings
        .iter()
        .any(|w| w.code == stsguard::report::WarningCode::Unauthenticated));
}

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn storage_failures_are_errors_and_leave_nothing_half_written() {
    let client = client().await;
    // The raw mail is readable, but the results bucket does not exist.
    let raw_bucket = bucket(&client, "raw").await;
    put(
        &client,
        &raw_bucket,
        "incoming/m1crosoft0report7mail2id",
        sample("microsoft-eden.eml"),
    )
    .await;
    let handler = Handler::s3(client.clone(), config("stsguard-no-such-bucket-for-results"));
    let mut ev = fixture("s3-object-created.json", &raw_bucket);
    ev["Records"].as_array_mut().unwrap().truncate(1);
    let err = handler.handle(ev, now()).await.unwrap_err();
    assert!(matches!(err, HandlerError::Storage { .. }), "{err}");
    // What the runtime reports names S3's answer, not just the operation.
    let message = Diagnostic::from(err).error_message;
    assert!(message.starts_with("storage failed for "), "{message}");
    assert!(message.contains("NoSuchBucket"), "{message}");
    assert_eq!(
        all_keys(&client, &raw_bucket).await,
        ["incoming/m1crosoft0report7mail2id"]
    );

    // The raw mail named by an SES event is missing: an error, so Lambda retries.
    let empty = bucket(&client, "empty").await;
    let handler = Handler::s3(client.clone(), config(&empty));
    let err = handler
        .handle(fixture("ses-lambda-action.json", &empty), now())
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::RawMissing(_)), "{err}");
    assert!(all_keys(&client, &empty).await.is_empty());

    // The endpoint itself is down.
    let down = Client::from_conf(
        client
            .config()
            .to_builder()
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let handler = Handler::s3(down, config(&empty));
    let err = handler
        .handle(fixture("ses-lambda-action.json", &empty), now())
        .await
        .unwrap_err();
    assert!(matches!(err, HandlerError::Storage { .. }), "{err}");
    let message = Diagnostic::from(err).error_message;
    assert!(message.contains("dispatch failure"), "{message}");
}

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn oversize_raw_mail_is_hashed_by_streaming_and_quarantined() {
    let client = client().await;
    let b = bucket(&client, "big").await;
    let raw = sample("google-eden.eml");
    put(
        &client,
        &b,
        "incoming/k8c2s7m1q0d4vbn5ht3e9o6rlp2fua1gjemi0t81",
        raw.clone(),
    )
    .await;
    let mut cfg = config(&b);
    cfg.ingest.limits.max_mail_bytes = 100;
    let resp = Handler::s3(client.clone(), cfg)
        .handle(fixture("ses-lambda-action.json", &b), now())
        .await
        .unwrap();
    assert_eq!(resp.items[0].rejected.as_deref(), Some("too-large"));
    let store = S3Store::new(client.clone(), &b, "");
    let keys = store.list("rejected/").await.unwrap();
    assert_eq!(
        keys,
        [format!(
            "rejected/day=2024-11-09/{}.json",
            stsguard::sha256_hex(&raw)
        )]
    );
}

#[tokio::test]
#[ignore = "needs a local S3 endpoint (AWS_ENDPOINT_URL): run by .ci/run"]
async fn s3_store_is_put_if_absent_and_lists_past_one_page() {
    let client = client().await;
    let b = bucket(&client, "store").await;
    let store = S3Store::new(client.clone(), &b, "pre/");
    assert_eq!(
        store.put_if_absent("a/x.json", b"1".to_vec()).await.unwrap(),
        PutOutcome::Created
    );
    assert_eq!(
        store.put_if_absent("a/x.json", b"2".to_vec()).await.unwrap(),
        PutOutcome::AlreadyExists
    );
    assert_eq!(store.get("a/x.json").await.unwrap(), Some(b"1".to_vec()));
    assert_eq!(store.get("a/none.json").await.unwrap(), None);
    assert!(store.put_if_absent("../escape", vec![]).await.is_err());

    // 1,050 keys: ListObjectsV2 pages hold 1,000.
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in 0..21 {
        let store = store.clone();
        tasks.spawn(async move {
            for i in 0..50 {
                store
                    .put_if_absent(&format!("many/{:04}.json", chunk * 50 + i), b"{}".to_vec())
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let keys = store.list("many/").await.unwrap();
    assert_eq!(keys.len(), 1050);
    assert_eq!(keys[0], "many/0000.json");
    assert_eq!(keys[1049], "many/1049.json");
    assert_eq!(store.list("a/").await.unwrap(), ["a/x.json"]);
}
