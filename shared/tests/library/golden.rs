//! Golden tests: every fixture under `tests/fixtures/{corpus,mail}` goes through
//! the pure pipeline and its output must equal the reviewed golden file under
//! `tests/fixtures/golden/`. Set `STSGUARD_BLESS=1` to rewrite the golden files
//! after an intended change, then review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use stsguard::ingest::{prepare, IngestConfig, InputContext, InputKind};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn received_at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_731_218_400, 0).unwrap() // 2024-11-10T06:00:00Z
}

/// Runs one fixture and renders everything it produced as JSON.
fn run(dir: &str, name: &str) -> serde_json::Value {
    let raw = std::fs::read(fixtures().join(dir).join(name)).unwrap();
    let ctx = InputContext {
        channel: "file".into(),
        input: Some(format!("{dir}/{name}")),
        ..InputContext::default()
    };
    let p = prepare(
        &raw,
        InputKind::from_file_name(name),
        &ctx,
        &IngestConfig::default(),
        received_at(),
    );
    serde_json::json!({
        "reports": p.reports.iter().map(|(k, r)| serde_json::json!({"key": k, "report": r})).collect::<Vec<_>>(),
        "rejection": p.rejection.map(|(k, r)| serde_json::json!({"key": k, "record": r})),
    })
}

fn check_dir(dir: &str) {
    let bless = std::env::var_os("STSGUARD_BLESS").is_some();
    let mut names: Vec<String> = std::fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") || n.ends_with(".eml"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures in tests/fixtures/{dir}");
    let mut failures = Vec::new();
    for name in &names {
        let got = run(dir, name);
        // Every sample in these folders is a usable report: none may be rejected.
        assert!(
            got["rejection"].is_null(),
            "{dir}/{name} was rejected: {:#}",
            got["rejection"]
        );
        assert!(
            !got["reports"].as_array().unwrap().is_empty(),
            "{dir}/{name} gave no report"
        );
        let golden = fixtures()
            .join("golden")
            .join(dir)
            .join(format!("{name}.golden.json"));
        let text = serde_json::to_string_pretty(&got).unwrap() + "\n";
        if bless {
            std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
            std::fs::write(&golden, &text).unwrap();
            continue;
        }
        match std::fs::read_to_string(&golden) {
            Ok(want) if want == text => {}
            Ok(_) => failures.push(format!("{dir}/{name}: output differs from {}", golden.display())),
            Err(e) => failures.push(format!("{dir}/{name}: no golden file {} ({e})", golden.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ (run with STSGUARD_BLESS=1 and review the diff):\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_samples_match_their_golden_outputs() {
    check_dir("corpus");
}

#[test]
fn mail_shapes_match_their_golden_outputs() {
    check_dir("mail");
}

#[test]
fn bundled_samples_ingest_as_documented() {
    // The README quick start ingests `samples/`: four usable mails, one quarantined.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut reports = 0;
    let mut rejected = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let raw = std::fs::read(&path).unwrap();
        let p = prepare(
            &raw,
            InputKind::Mail,
            &InputContext::default(),
            &IngestConfig::default(),
            received_at(),
        );
        reports += p.reports.len();
        if let Some((_, r)) = p.rejection {
            rejected.push((path.file_name().unwrap().to_string_lossy().into_owned(), r.reason));
        }
    }
    assert_eq!(reports, 5);
    assert_eq!(
        rejected,
        vec![(
            "broken-truncated-gzip.eml".to_owned(),
            stsguard::ingest::RejectReason::BadGzip
        )]
    );
}
