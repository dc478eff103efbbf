//! Flag groups that several commands share: where the store is (`ingest`,
//! `digest`) and how to reach the live side (`check`, `lint --live`).

// An edge module: it reads the environment (AWS_ENDPOINT_URL) and the CA file.
#![allow(clippy::disallowed_methods)]

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use stsguard::live::gather::{parse_resolver, LiveConfig};
use stsguard::store::s3::{client_from_env, parse_s3_url, S3Store};
use stsguard::store::DirStore;

/// `--store`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// The store: a local directory (created if missing) or s3://BUCKET/PREFIX
    /// (AWS credentials and region from the usual environment and profiles;
    /// AWS_ENDPOINT_URL for an S3-compatible endpoint).
    #[arg(
        long,
        value_name = "DIR|s3://BUCKET/PREFIX",
        default_value = "./stsguard-data"
    )]
    pub store: PathBuf,
}

/// An opened store.
pub(crate) enum Store {
    /// `s3://BUCKET/PREFIX`.
    S3(S3Store),
    /// A local directory.
    Dir(DirStore),
}

impl StoreArgs {
    /// The store as the user wrote it, for messages.
    pub(crate) fn name(&self) -> String {
        self.store.display().to_string()
    }

    /// Opens the store: an `s3://` URL as an S3 store (path-style addressing
    /// when `AWS_ENDPOINT_URL` points at an S3-compatible endpoint), anything
    /// else as a directory.
    pub(crate) fn open(&self, rt: &tokio::runtime::Runtime) -> Result<Store> {
        let name = self.name();
        if !name.starts_with("s3://") {
            return Ok(Store::Dir(
                DirStore::open(&self.store).context("the store is unusable")?,
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
}

/// How to reach the live side.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LiveArgs {
    /// Send every DNS query to this server (port 53 unless given) instead of the
    /// system's resolvers; connect to the hosts at the addresses it gives.
    #[arg(long, value_name = "IP[:PORT]")]
    pub resolver: Option<String>,

    /// Also trust the CA certificates in this PEM file (policy hosts, MX hosts,
    /// report endpoints); the web PKI roots stay trusted.
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Do not connect to the MX hosts (port 25 is blocked on many laptops and CI runners).
    #[arg(long)]
    pub no_smtp: bool,

    /// The port of the MX hosts' SMTP servers.
    #[arg(long = "smtp-port", value_name = "PORT", default_value_t = 25, value_parser = clap::value_parser!(u16).range(1..))]
    pub smtp_port: u16,

    /// Timeout of each policy fetch, MX probe and report-endpoint check in
    /// seconds (each DNS attempt gets at most 5 s).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
}

/// Reads at most `cap` bytes of `path` (`what` names it in the error); a
/// caller that must refuse a larger file reads `cap + 1` and compares.
pub(crate) fn read_file(path: &std::path::Path, cap: u64, what: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            // Sized once from the file's length (a large plan is not copied
            // while the buffer grows); the cap still bounds what is read.
            let len = f.metadata().map_or(0, |m| m.len()).min(cap);
            bytes.reserve_exact(usize::try_from(len).unwrap_or(0).saturating_add(1));
            f.take(cap).read_to_end(&mut bytes)
        })
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    Ok(bytes)
}

/// A CA file larger than this is refused.
const MAX_CA_FILE: u64 = 1 << 20;

impl LiveArgs {
    /// Whether any flag differs from its default (for `lint` without `--live`).
    pub(crate) fn any_given(&self) -> bool {
        self.resolver.is_some()
            || self.ca_file.is_some()
            || self.no_smtp
            || self.smtp_port != 25
            || self.timeout != 30
    }

    /// Checks `domains` (at most eight at a time) and returns what was learnt,
    /// in the order given.
    pub(crate) fn gather(&self, domains: &[String]) -> Result<Vec<stsguard::live::gather::LiveDomain>> {
        let resolver = match self.resolver.as_deref() {
            Some(s) => match parse_resolver(s) {
                Some(addr) => Some(addr),
                None => bail!("--resolver {s:?} is not IP or IP:PORT"),
            },
            None => None,
        };
        let extra_roots_pem = match &self.ca_file {
            Some(path) => Some(read_file(path, MAX_CA_FILE, "the CA file")?),
            None => None,
        };
        let config = LiveConfig {
            resolver,
            extra_roots_pem,
            smtp: !self.no_smtp,
            smtp_port: self.smtp_port,
            timeout: Duration::from_secs(self.timeout),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(runtime.block_on(stsguard::live::gather::gather_domains(domains, &config))?)
    }
}
