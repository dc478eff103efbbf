//! Criterion benchmark of linting a large Terraform plan: `read_plan` then
//! `lint_plan`, end to end, on the synthetic plan of `gen_plan.py`.
//!
//! Run with `cargo bench -p stsguard --bench lint`.
//!
//! The plan is `STSGUARD_BENCH_PLAN=FILE` when set (e.g. one written by
//! `python3 shared/benches/gen_plan.py FILE`, or the peer kit's
//! `bench/lint/gen_big.py`); otherwise `gen_plan.py` writes its default 20,000
//! resource plan into the target directory first (python3 is needed). The file
//! is read into memory before timing starts.
//!
//! Benchmarks (throughput in bytes of plan JSON):
//!
//! * `read_plan`: [`read_plan`] alone (typed, borrowed parse; records and policy
//!   files extracted);
//! * `read_and_lint`: [`read_plan`] then [`lint_plan`], what `stsguard lint
//!   PLAN.json` does between reading the file and printing;
//! * `lint_plan`: [`lint_plan`] alone on the parsed plan.
//!
//! Every pass checks its result against the first pass (the same number of
//! findings), so that a pass that measured a failure path panics instead of
//! reporting a figure. `STSGUARD_BENCH_SECS` sets the measurement time per
//! benchmark (default 8 s).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use stsguard::lint::lint_plan;
use stsguard::plan::read_plan;

fn plan_file() -> PathBuf {
    if let Some(p) = std::env::var_os("STSGUARD_BENCH_PLAN") {
        return PathBuf::from(p);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../target"));
    let out = target.join("lint-bench-plan-20000.json");
    if !out.exists() {
        let status = std::process::Command::new("python3")
            .arg(manifest.join("benches/gen_plan.py"))
            .arg(&out)
            .status()
            .expect("python3 runs gen_plan.py (or set STSGUARD_BENCH_PLAN)");
        assert!(status.success(), "gen_plan.py failed");
    }
    out
}

fn main() {
    let path = plan_file();
    let json = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let plan = read_plan(&json).expect("the bench plan is a plan");
    let want = lint_plan(&plan).len();
    eprintln!(
        "plan {}: {} bytes, {} records, {} policy files, {} notes, {want} findings",
        path.display(),
        json.len(),
        plan.records.len(),
        plan.policies.len(),
        plan.notes.len(),
    );
    assert!(
        want > 0 && !plan.policies.is_empty(),
        "the bench plan has nothing to lint"
    );

    let secs = std::env::var("STSGUARD_BENCH_SECS")
        .ok()
        .map(|s| s.parse().expect("STSGUARD_BENCH_SECS is a number"))
        .unwrap_or(8.0);
    let mut cr = Criterion::default().configure_from_args();
    let mut g = cr.benchmark_group("lint");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs_f64(secs))
        .throughput(Throughput::Bytes(json.len() as u64));
    g.bench_function("read_plan", |b| {
        b.iter(|| {
            let p = read_plan(black_box(&json)).unwrap();
            assert_eq!(p.policies.len(), plan.policies.len());
            p
        })
    });
    g.bench_function("read_and_lint", |b| {
        b.iter(|| {
            let p = read_plan(black_box(&json)).unwrap();
            let f = lint_plan(&p);
            assert_eq!(f.len(), want);
            f
        })
    });
    g.bench_function("lint_plan", |b| {
        b.iter(|| {
            let f = lint_plan(black_box(&plan));
            assert_eq!(f.len(), want);
            f
        })
    });
    g.finish();
    cr.final_summary();
}
