//! Criterion benchmarks of the daily digest over a local store.
//!
//! Run with `cargo bench -p stsguard --bench digest`.
//!
//! The store is generated before timing starts: `STSGUARD_BENCH_N` (default
//! 100,000) normalized reports for 2024-11-08 in a directory store
//! (`STSGUARD_BENCH_STORE=DIR`, else a temporary directory), spread over 50
//! domains and a realistic sender mix (Google-like reports with failure details
//! on some days, Microsoft-like ones without MX/IP details, a long tail of small
//! senders), plus the stored digests of the 13 days before (the trend input).
//! With `STSGUARD_BENCH_GEN_ONLY=1` it only writes the store (for timing the
//! CLI with `/usr/bin/time -v stsguard digest --store DIR --day 2024-11-08`).
//!
//! Benchmarks (one iteration is one whole day; throughput is in reports):
//!
//! * `aggregate_dir`: [`aggregate`] over the directory store: list every key,
//!   read every file, parse, fold, read the 13 earlier digests, finish;
//! * `aggregate_memory`: the same over a [`MemoryStore`] holding the same
//!   objects (no file I/O: parse and fold alone);
//! * `render`: text, HTML (charts drawn and embedded) and the MIME mail of the
//!   finished digest;
//! * `bare_bound`: read every file of the day and `serde_json::from_slice::<Value>`
//!   it: the least any reader of the stored JSON has to do.
//!
//! Every pass checks its result (report count and session totals).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, SamplingMode, Throughput};
use serde_json::Value;
use stsguard::digest::run::{aggregate, render_all, run, RunConfig};
use stsguard::keys::Layout;
use stsguard::mailer::RecordingMailer;
use stsguard::report::{report_key_id, Failure, NormalizedReport, ReportPolicy, Source, Verdicts};
use stsguard::store::{DirStore, MemoryStore, ObjectStore};

const DAY: &str = "2024-11-08";

/// A deterministic pseudo-random sequence (xorshift), so every run writes the same store.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const TYPES: [&str; 5] = [
    "starttls-not-supported",
    "certificate-expired",
    "certificate-host-mismatch",
    "sts-policy-fetch-error",
    "validation-failure",
];

fn report(rng: &mut Rng, i: u64, day: &str) -> NormalizedReport {
    let domain = format!("d{}.example", rng.below(50));
    let kind = rng.below(10);
    let (org, with_details) = match kind {
        0..=5 => ("Google LLC".to_owned(), true),
        6..=8 => ("Microsoft Corporation".to_owned(), false),
        _ => (format!("Small Sender {}", rng.below(200)), true),
    };
    let ok = 1 + rng.below(5_000);
    let failing = rng.below(8) == 0;
    let mut failures = Vec::new();
    let mut failed = 0;
    if failing {
        for _ in 0..1 + rng.below(3) {
            let n = 1 + rng.below(40);
            failed += n;
            failures.push(Failure {
                result_type: TYPES[rng.below(TYPES.len() as u64) as usize].into(),
                known: true,
                count: n,
                sending_mta_ip: with_details.then(|| format!("209.85.{}.{}", rng.below(256), rng.below(256))),
                receiving_mx_hostname: with_details.then(|| format!("mx{}.{domain}", rng.below(3))),
                receiving_mx_helo: None,
                receiving_ip: with_details.then(|| format!("198.51.100.{}", rng.below(256))),
                additional_information: None,
                failure_reason_code: None,
            });
        }
    }
    let report_id = format!("{day}T00:00:00Z_{domain}_{i}");
    NormalizedReport {
        schema: "stsguard/report/v1".into(),
        id: report_key_id(&org, &report_id),
        report_id,
        organization: org,
        contact_info: Some("smtp-tls-reporting@example.net".into()),
        start: format!("{day}T00:00:00Z"),
        end: format!("{day}T23:59:59Z"),
        day: day.into(),
        domain: domain.clone(),
        other_domains: Vec::new(),
        policies: vec![ReportPolicy {
            policy_type: "sts".into(),
            policy_domain: Some(domain.clone()),
            policy_strings: vec![
                "version: STSv1".into(),
                "mode: enforce".into(),
                format!("mx: *.{domain}"),
                "max_age: 604800".into(),
            ],
            mx_hosts: vec![format!("*.{domain}")],
            sts: Some(stsguard::report::sts::StsSummary {
                mode: Some("enforce".into()),
                max_age: Some(604_800),
                mx: vec![format!("*.{domain}")],
            }),
            successful: ok,
            failed,
            failures,
        }],
        source: Source {
            channel: "ses".into(),
            ses_message_id: Some(format!("m{i:016x}")),
            raw_key: Some(format!("incoming/m{i:016x}")),
            from: Some("noreply-smtp-tls-reporting@google.com".into()),
            subject: Some(format!(
                "Report Domain: {domain} Submitter: google.com Report-ID: <{i}>"
            )),
            verdicts: Verdicts {
                dkim: Some("pass".into()),
                spf: Some("pass".into()),
                dmarc: Some("pass".into()),
                spam: Some("pass".into()),
                virus: Some("pass".into()),
                dkim_domain: None,
            },
            attachment_name: Some(format!("google.com!{domain}!1731024000!1731110399!{i}.json.gz")),
            media_type: Some("application/tlsrpt+gzip".into()),
            compression: "gzip".into(),
            payload_sha256: format!("{:064x}", i),
            payload_bytes: 600 + rng.below(800),
            ..Source::default()
        },
        warnings: Vec::new(),
    }
}

/// Writes the day's reports straight into the store's layout (no fsync per
/// file: this is set-up, not the code under test) and returns (count,
/// successful, failed).
fn generate(dir: &Path, n: u64) -> (u64, u64, u64) {
    let layout = Layout::default();
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let (mut ok, mut failed) = (0u64, 0u64);
    for i in 0..n {
        let r = report(&mut rng, i, DAY);
        ok += r.policies[0].successful;
        failed += r.policies[0].failed;
        let path = dir.join(layout.report_key(&r.day, &r.domain, &r.id));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_vec(&r).unwrap()).unwrap();
    }
    (n, ok, failed)
}

/// The 13 earlier days' digests, made by the pipeline from a few reports each.
fn history(store: &DirStore) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let day = NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap();
    let mut rng = Rng(7);
    for back in (1..=13).rev() {
        let d = (day - chrono::Days::new(back)).to_string();
        rt.block_on(async {
            for i in 0..200 {
                let r = report(&mut rng, i, &d);
                let key = Layout::default().report_key(&r.day, &r.domain, &r.id);
                store
                    .put_if_absent(&key, serde_json::to_vec(&r).unwrap())
                    .await
                    .unwrap();
            }
            let now = Utc.with_ymd_and_hms(2024, 11, 9, 6, 0, 0).unwrap();
            let day = NaiveDate::parse_from_str(&d, "%Y-%m-%d").unwrap();
            run(
                store,
                &RecordingMailer::new(),
                &RunConfig::default(),
                day,
                now,
                false,
            )
            .await
            .unwrap();
        });
    }
}

fn main() {
    let n: u64 = std::env::var("STSGUARD_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let secs: u64 = std::env::var("STSGUARD_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let tmp;
    let dir: PathBuf = match std::env::var_os("STSGUARD_BENCH_STORE") {
        Some(d) => PathBuf::from(d),
        None => {
            tmp = tempfile::tempdir().unwrap();
            tmp.path().to_path_buf()
        }
    };
    let marker = dir.join(format!(".generated-{n}"));
    let (count, ok, failed) = if marker.exists() {
        serde_json::from_slice::<(u64, u64, u64)>(&std::fs::read(&marker).unwrap()).unwrap()
    } else {
        let t = std::time::Instant::now();
        let totals = generate(&dir, n);
        history(&DirStore::open(&dir).unwrap());
        std::fs::write(&marker, serde_json::to_vec(&totals).unwrap()).unwrap();
        eprintln!(
            "generated {n} reports in {} in {:.1?}",
            dir.display(),
            t.elapsed()
        );
        totals
    };
    if std::env::var_os("STSGUARD_BENCH_GEN_ONLY").is_some() {
        return;
    }

    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let config = RunConfig::default();
    let day = NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap();
    let dir_store = DirStore::open(&dir).unwrap();
    let check = |d: &stsguard::digest::Digest| {
        assert_eq!(d.totals.reports, count);
        assert_eq!((d.totals.successful, d.totals.failed), (ok, failed));
    };

    // The same objects in memory.
    let mem = MemoryStore::new();
    let day_keys = rt
        .block_on(dir_store.list(&Layout::default().report_day_prefix(DAY)))
        .unwrap();
    rt.block_on(async {
        for k in rt_keys(&dir_store, &day_keys, "digests/").await {
            let body = dir_store.get(&k).await.unwrap().unwrap();
            mem.put_if_absent(&k, body).await.unwrap();
        }
    });

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(secs))
        .configure_from_args();
    let mut g = c.benchmark_group("digest");
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(count));
    g.bench_function("aggregate_dir", |b| {
        b.iter(|| {
            let (d, _, h) = rt.block_on(aggregate(&dir_store, &config, day)).unwrap();
            check(&d);
            assert_eq!(h, 13);
            black_box(d)
        })
    });
    g.bench_function("aggregate_memory", |b| {
        b.iter(|| {
            let (d, _, h) = rt.block_on(aggregate(&mem, &config, day)).unwrap();
            check(&d);
            assert_eq!(h, 13);
            black_box(d)
        })
    });
    g.bench_function("bare_bound", |b| {
        b.iter(|| {
            let mut sessions = 0u64;
            for k in &day_keys {
                let bytes = std::fs::read(dir.join(k)).unwrap();
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                sessions += v["policies"][0]["successful"].as_u64().unwrap();
            }
            assert_eq!(sessions, ok);
            black_box(sessions)
        })
    });
    let (digest, _, _) = rt.block_on(aggregate(&mem, &config, day)).unwrap();
    let now = Utc.with_ymd_and_hms(2024, 11, 9, 6, 0, 0).unwrap();
    g.throughput(Throughput::Elements(digest.domains.len() as u64));
    g.bench_function("render", |b| {
        b.iter(|| {
            let (text, html, eml) = render_all(&digest, &config, now).unwrap();
            assert!(html.contains("data:image/png;base64,"));
            black_box((text, html, eml))
        })
    });
    g.finish();
    c.final_summary();
}

/// The day's report keys plus every stored digest key.
async fn rt_keys(store: &DirStore, day_keys: &[String], digests: &str) -> Vec<String> {
    let mut keys = day_keys.to_vec();
    keys.extend(store.list(digests).await.unwrap());
    keys
}
