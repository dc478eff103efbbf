//! A gzip bomb (1 GiB of zeros) is refused after reading at most the cap, fast
//! and with bounded memory. In its own test binary so that the process's peak
//! RSS is this test's alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::io::Write;
use std::time::Instant;

use stsguard::ingest::{prepare, IngestConfig, InputContext, InputKind, RejectReason};

/// Peak resident set size of this process in KiB (Linux), if known.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn one_gib_gzip_bomb_is_rejected_quickly_with_bounded_memory() {
    // 1 MiB of zeros compresses to about 1 KiB; 1024 concatenated gzip members
    // decompress to 1 GiB (MultiGzDecoder reads every member).
    let mut member = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    let bomb: Vec<u8> = member.iter().copied().cycle().take(member.len() * 1024).collect();
    assert!(
        bomb.len() < 2 << 20,
        "the bomb itself is small: {} bytes",
        bomb.len()
    );

    let before = peak_rss_kib();
    let t = Instant::now();
    let p = prepare(
        &bomb,
        InputKind::Payload,
        &InputContext::default(),
        &IngestConfig::default(),
        chrono::DateTime::from_timestamp(0, 0).unwrap(),
    );
    let elapsed = t.elapsed();
    let (_, rec) = p.rejection.expect("the bomb must be rejected");
    assert_eq!(rec.reason, RejectReason::TooLarge, "{}", rec.detail);
    assert!(p.reports.is_empty());
    println!("gzip bomb rejected in {elapsed:?}");
    // Reading the 20 MiB cap takes tens of milliseconds; reading 1 GiB would take
    // seconds. A generous bound keeps this stable on a loaded debug build.
    assert!(elapsed.as_secs_f64() < 3.0, "took {elapsed:?}");
    if let (Some(b), Some(a)) = (before, peak_rss_kib()) {
        let grown_mib = (a.saturating_sub(b)) / 1024;
        println!("peak RSS grew by {grown_mib} MiB");
        // The cap is 20 MiB of output (plus Vec growth slack); 1 GiB would not fit.
        assert!(grown_mib < 128, "peak RSS grew by {grown_mib} MiB");
    }
}
