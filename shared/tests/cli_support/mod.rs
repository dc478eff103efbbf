//! Running the `stsguard` binary in the CLI tests, and the S3 bucket the
//! endpoint tests write to.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The bundled sample mail.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Runs the binary with `args`.
pub fn stsguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stsguard"))
        .args(args)
        .output()
        .unwrap()
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A new bucket `<name>-<pid>` on the local S3 endpoint (`AWS_ENDPOINT_URL`,
/// which must be on loopback), with the runtime and the client that made it.
pub fn s3_bucket(name: &str) -> (tokio::runtime::Runtime, aws_sdk_s3::Client, String) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127."),
        "needs AWS_ENDPOINT_URL on loopback, got {endpoint:?}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let bucket = format!("{name}-{}", std::process::id());
    let client = rt.block_on(stsguard::store::s3::client_from_env(true));
    rt.block_on(client.create_bucket().bucket(&bucket).send())
        .unwrap();
    (rt, client, bucket)
}
