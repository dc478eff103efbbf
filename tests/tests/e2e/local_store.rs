//! The whole local path through the public API only: sample mail -> ingest ->
//! directory store -> typed read-back of every stored object. This pins the
//! stored formats as a contract that other crates (the digest, Athena tables)
//! read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::Path;

use stsguard::ingest::{
    self, IngestConfig, InputContext, InputKind, RejectReason, RejectedRecord, REJECTED_SCHEMA,
};
use stsguard::keys::Layout;
use stsguard::report::{NormalizedReport, REPORT_SCHEMA};
use stsguard::store::{DirStore, ObjectStore};

#[tokio::test(flavor = "current_thread")]
async fn samples_round_trip_through_a_directory_store() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples");
    let dir = tempfile::tempdir().unwrap();
    let store = DirStore::open(dir.path()).unwrap();
    let layout = Layout::default();
    let now = chrono::DateTime::from_timestamp(1_731_218_400, 0).unwrap();

    let mut names: Vec<_> = std::fs::read_dir(&samples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no sample mail in {}", samples.display());
    let mut written = 0;
    for path in &names {
        let raw = std::fs::read(path).unwrap();
        let ctx = InputContext {
            channel: "file".into(),
            input: Some(path.file_name().unwrap().to_string_lossy().into_owned()),
            ..InputContext::default()
        };
        let out = ingest::ingest(&store, &raw, InputKind::Mail, &ctx, &IngestConfig::default(), now)
            .await
            .unwrap();
        written += out.written.len();
    }
    assert_eq!(written, 4);

    let keys = store.list(&layout.reports).await.unwrap();
    assert_eq!(keys.len(), 4);
    let mut domains = Vec::new();
    for key in &keys {
        let r: NormalizedReport = serde_json::from_slice(&store.get(key).await.unwrap().unwrap()).unwrap();
        assert_eq!(r.schema, REPORT_SCHEMA);
        assert_eq!(
            key,
            &layout.report_key(&r.day, &r.domain, &r.id),
            "key and content agree"
        );
        domains.push(r.domain);
    }
    domains.sort();
    assert_eq!(domains, ["cardinalhealth.ca", "eden.one", "eden.one", "eden.one"]);

    // One day's reports are found by prefix.
    let day = store.list(&layout.report_day_prefix("2024-11-08")).await.unwrap();
    assert_eq!(day.len(), 1);

    let rejected = store.list(&layout.rejected).await.unwrap();
    assert_eq!(rejected.len(), 1);
    let rec: RejectedRecord =
        serde_json::from_slice(&store.get(&rejected[0]).await.unwrap().unwrap()).unwrap();
    assert_eq!(rec.schema, REJECTED_SCHEMA);
    assert_eq!(rec.reason, RejectReason::BadGzip);
    assert_eq!(rec.input.input.as_deref(), Some("broken-truncated-gzip.eml"));
    assert!(rejected[0].ends_with(&format!("{}.json", rec.input.sha256)));
}
