//! The one runner of the binary, and the paths the tests read.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use stsguard_test_support::s3::bucket_blocking as s3_bucket;
pub use stsguard_test_support::text;

/// The `stsguard` binary, ready for arguments.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stsguard"))
}

/// Runs the binary with `args`.
pub fn stsguard(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

/// Runs the binary with `args`, off the async runtime.
pub async fn stsguard_async(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || bin().args(&args).output().unwrap())
        .await
        .unwrap()
}

/// The library's folder (`shared/`): fixtures, samples, examples.
pub fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled sample mail.
pub fn samples() -> PathBuf {
    shared_dir().join("samples")
}

/// `check example.com --no-smtp` pointed at `dns` and the CA in `ca`, with a
/// 5 s timeout, in `format`.
pub fn check_args(dns: SocketAddr, ca: &Path, format: &str) -> Vec<String> {
    [
        "check",
        "example.com",
        "--no-smtp",
        "--resolver",
        &dns.to_string(),
        "--ca-file",
        &ca.display().to_string(),
        "--timeout",
        "5",
        "--format",
        format,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}
