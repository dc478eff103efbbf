//! What `--store` names, opened: a local directory or `s3://BUCKET/PREFIX`.
//! Shared by `ingest` and `digest`.

// An edge module: it reads the environment (AWS_ENDPOINT_URL).
#![allow(clippy::disallowed_methods)]

use std::path::Path;

use anyhow::{bail, Context, Result};
use stsguard::store::s3::{client_from_env, parse_s3_url, S3Store};
use stsguard::store::DirStore;

/// An opened store.
pub(crate) enum Store {
    /// `s3://BUCKET/PREFIX`.
    S3(S3Store),
    /// A local directory.
    Dir(DirStore),
}

/// Opens `--store`: an `s3://` URL as an S3 store (path-style addressing when
/// `AWS_ENDPOINT_URL` points at an S3-compatible endpoint), anything else as
/// a directory.
pub(crate) fn open(rt: &tokio::runtime::Runtime, store: &Path) -> Result<Store> {
    let name = store.display().to_string();
    if !name.starts_with("s3://") {
        return Ok(Store::Dir(
            DirStore::open(store).context("the store is unusable")?,
        ));
    }
    let Some((bucket, prefix)) = parse_s3_url(&name) else {
        bail!("--store {name}: expected s3://BUCKET/PREFIX");
    };
    // An S3-compatible endpoint (AWS_ENDPOINT_URL) usually wants path-style.
    let path_style = std::env::var_os("AWS_ENDPOINT_URL").is_some_and(|v| !v.is_empty());
    let client = rt.block_on(client_from_env(path_style));
    Ok(Store::S3(S3Store::new(client, bucket, prefix)))
}
