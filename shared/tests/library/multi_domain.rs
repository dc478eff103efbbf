//! Reports that name several policy domains (RFC 8460 allows a policy
//! per domain in one report): stored once per domain, each copy with that
//! domain's policies, and digested per domain, each report counted once for
//! each domain it names and each session once.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use stsguard::digest::{render, Aggregator, DigestConfig};
use stsguard::ingest::{self, IngestConfig, InputContext, InputKind, RejectReason};
use stsguard::report::NormalizedReport;
use stsguard::store::{MemoryStore, ObjectStore};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/multi-domain")
}

fn input(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_121_967, 0).unwrap()
}

fn ingest_into(store: &MemoryStore, name: &str, config: &IngestConfig) -> ingest::Outcome {
    let ctx = InputContext {
        channel: "file".into(),
        input: Some(name.into()),
        ..InputContext::default()
    };
    let prepared = ingest::prepare(&input(name), InputKind::Payload, &ctx, config, now());
    block_on(ingest::store_prepared(store, prepared)).unwrap()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn stored(store: &MemoryStore) -> Vec<(String, NormalizedReport)> {
    block_on(async {
        let mut out = Vec::new();
        for k in store.list("reports/").await.unwrap() {
            let body = store.get(&k).await.unwrap().unwrap();
            out.push((k, serde_json::from_slice(&body).unwrap()));
        }
        out
    })
}

#[test]
fn a_report_is_stored_under_each_domain_it_names() {
    let store = MemoryStore::new();
    let out = ingest_into(&store, "two-domains.json", &IngestConfig::default());
    assert_eq!(out.written.len(), 2, "{out:?}");
    let reports = stored(&store);
    let keys: Vec<&str> = reports.iter().map(|(k, _)| k.as_str()).collect();
    let id = &reports[0].1.id;
    assert_eq!(
        keys,
        [
            format!("reports/v1/day=2024-11-08/domain=alpha.example/{id}.json"),
            format!("reports/v1/day=2024-11-08/domain=beta.example/{id}.json"),
        ]
    );
    let (alpha, beta) = (&reports[0].1, &reports[1].1);
    assert_eq!(
        (alpha.domain.as_str(), beta.domain.as_str()),
        ("alpha.example", "beta.example")
    );
    assert_eq!(alpha.other_domains, ["beta.example"]);
    assert_eq!(beta.other_domains, ["alpha.example"]);
    assert_eq!(alpha.policies.len(), 1);
    assert_eq!(beta.policies.len(), 2);
    assert!(alpha
        .policies
        .iter()
        .all(|p| p.policy_domain.as_deref() == Some("alpha.example")));
    assert!(beta
        .policies
        .iter()
        .all(|p| p.policy_domain.as_deref() == Some("beta.example")));
    assert_eq!(
        (alpha.id.as_str(), alpha.report_id.as_str()),
        (beta.id.as_str(), beta.report_id.as_str())
    );
    assert!(alpha
        .warnings
        .iter()
        .any(|w| w.message.contains("stored once per domain")));

    // Redelivered: a duplicate under each domain, nothing new, no conflict.
    let again = ingest_into(&store, "two-domains.json", &IngestConfig::default());
    assert_eq!(
        (again.written.len(), again.duplicates.len(), again.conflicts.len()),
        (0, 2, 0)
    );
    assert_eq!(store.len(), 2);

    // A report of one domain is stored as before, without other_domains.
    let one = MemoryStore::new();
    ingest_into(&one, "alpha-only.json", &IngestConfig::default());
    let (_, r) = &stored(&one)[0];
    assert!(r.other_domains.is_empty());
    let json = block_on(one.get(&block_on(one.list("reports/")).unwrap()[0]))
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8(json).unwrap().contains("other_domains"));
}

#[test]
fn configured_domains_keep_their_copies_and_say_what_was_left_out() {
    let config = IngestConfig {
        allowed_domains: Some(vec!["beta.example".into()]),
        ..IngestConfig::default()
    };
    let store = MemoryStore::new();
    let out = ingest_into(&store, "two-domains.json", &config);
    assert_eq!((out.written.len(), out.rejected.is_none()), (1, true), "{out:?}");
    let reports = stored(&store);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].1.domain, "beta.example");
    assert!(
        reports[0].1.warnings.iter().any(|w| w
            .message
            .contains("alpha.example, not among the configured domains")),
        "{:?}",
        reports[0].1.warnings
    );
    // None of its domains configured: quarantined as before.
    let config = IngestConfig {
        allowed_domains: Some(vec!["gamma.example".into()]),
        ..IngestConfig::default()
    };
    let store = MemoryStore::new();
    let out = ingest_into(&store, "two-domains.json", &config);
    assert!(out.written.is_empty());
    assert!(
        matches!(out.rejected, Some((RejectReason::UnexpectedDomain, _, false))),
        "{out:?}"
    );
}

#[test]
fn the_digest_counts_each_domain_s_own_figures() {
    let store = MemoryStore::new();
    for name in ["two-domains.json", "alpha-only.json"] {
        ingest_into(&store, name, &IngestConfig::default());
    }
    let day = NaiveDate::from_ymd_opt(2024, 11, 8).unwrap();
    let mut agg = Aggregator::new(day);
    for (_, r) in stored(&store) {
        agg.add_json(&ingest::to_json(&r)).unwrap();
    }
    let digest = agg.finish(&DigestConfig::default(), &[]);
    let json: serde_json::Value = serde_json::from_str(&render::json(&digest)).unwrap();
    let domain = |name: &str| {
        json["domains"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["domain"] == name)
            .cloned()
            .unwrap()
    };
    let (alpha, beta) = (domain("alpha.example"), domain("beta.example"));
    // alpha: both reports, 115 + 10 sessions; beta: the shared report only.
    assert_eq!(
        (
            alpha["reports"].as_u64(),
            alpha["successful"].as_u64(),
            alpha["failed"].as_u64()
        ),
        (Some(2), Some(115), Some(10))
    );
    assert_eq!(
        (
            beta["reports"].as_u64(),
            beta["successful"].as_u64(),
            beta["failed"].as_u64()
        ),
        (Some(1), Some(45), Some(2))
    );
    assert_eq!(alpha["result_types"]["certificate-expired"], 10);
    assert!(alpha["result_types"].get("starttls-not-supported").is_none());
    assert_eq!(beta["result_types"]["starttls-not-supported"], 2);
    // Every session once over all domains.
    assert_eq!(json["totals"]["successful"], 160);
    assert_eq!(json["totals"]["failed"], 12);

    let path = dir().join("digest-2024-11-08.json");
    let actual = render::json(&digest);
    if std::env::var_os("STSGUARD_BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs; review the diff after STSGUARD_BLESS=1",
        path.display()
    );
}
