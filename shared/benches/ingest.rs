//! Criterion benchmarks of the ingest pipeline (written next).
fn main() {}
