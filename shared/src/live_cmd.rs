//! What `check` and `lint --live` share: the flags that say how to reach DNS,
//! the policy hosts and the MX hosts, and gathering several domains at once.

// An edge module: it reads the CA file and talks to the network.
#![allow(clippy::disallowed_methods)]

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use futures_util::stream::{self, StreamExt};
use stsguard::live::gather::{gather, GatherOptions, LiveDomain};
use stsguard::live::{FetcherConfig, HickoryResolver, ReqwestFetcher, SmtpConfig, TokioSmtpProbe};

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

impl LiveArgs {
    /// Whether any flag differs from its default (for `lint` without `--live`).
    pub(crate) fn any_given(&self) -> bool {
        self.resolver.is_some()
            || self.ca_file.is_some()
            || self.no_smtp
            || self.smtp_port != 25
            || self.timeout != 30
    }
}

/// A CA file larger than this is refused.
const MAX_CA_FILE: u64 = 1 << 20;
/// At most this many domains are checked at the same time.
const PARALLEL_DOMAINS: usize = 8;

fn parse_resolver(s: &str) -> Result<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match s.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 53)),
        Err(_) => bail!("--resolver {s:?} is not IP or IP:PORT"),
    }
}

/// Checks `domains` (at most eight at a time) and returns what was learnt, in
/// the order given.
pub(crate) fn gather_domains(domains: &[String], args: &LiveArgs) -> Result<Vec<LiveDomain>> {
    let resolver_addr = args.resolver.as_deref().map(parse_resolver).transpose()?;
    let extra_roots_pem = match &args.ca_file {
        Some(path) => {
            let mut pem = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_CA_FILE).read_to_end(&mut pem))
                .with_context(|| format!("cannot read the CA file {}", path.display()))?;
            Some(pem)
        }
        None => None,
    };
    let timeout = Duration::from_secs(args.timeout);
    let dns_timeout = timeout.min(Duration::from_secs(5));
    // Fail on a bad CA file before any network traffic.
    ReqwestFetcher::new(FetcherConfig {
        extra_roots_pem: extra_roots_pem.clone(),
        resolve: Vec::new(),
        timeout,
    })
    .context("cannot set up the HTTPS client")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let resolver = match resolver_addr {
            Some(addr) => HickoryResolver::at(addr, dns_timeout),
            None => HickoryResolver::system(dns_timeout),
        }
        .context("cannot set up the DNS resolver")?;
        let smtp = if args.no_smtp {
            None
        } else {
            Some(
                TokioSmtpProbe::new(SmtpConfig {
                    extra_roots_pem: extra_roots_pem.clone(),
                    port: args.smtp_port,
                    timeout,
                    ..SmtpConfig::default()
                })
                .context("cannot set up the SMTP probe")?,
            )
        };
        let options = GatherOptions {
            pin_addresses: resolver_addr.is_some(),
            smtp_port: args.smtp_port,
        };
        let fetcher = |resolve: &[(String, SocketAddr)]| {
            ReqwestFetcher::new(FetcherConfig {
                extra_roots_pem: extra_roots_pem.clone(),
                resolve: resolve.to_vec(),
                timeout,
            })
        };
        let (resolver, smtp, options, fetcher) = (&resolver, smtp.as_ref(), &options, &fetcher);
        let results: Vec<LiveDomain> = stream::iter(domains)
            .map(|d| async move { gather(d, resolver, fetcher, smtp, options).await })
            .buffered(PARALLEL_DOMAINS)
            .collect()
            .await;
        anyhow::Ok(results)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolver_forms() {
        assert_eq!(
            parse_resolver("127.0.0.1:5353").ok(),
            "127.0.0.1:5353".parse().ok()
        );
        assert_eq!(parse_resolver("192.0.2.1").ok(), "192.0.2.1:53".parse().ok());
        assert_eq!(parse_resolver("[::1]:53").ok(), "[::1]:53".parse().ok());
        assert_eq!(parse_resolver("::1").ok(), "[::1]:53".parse().ok());
        assert!(parse_resolver("dns.example").is_err());
    }
}
