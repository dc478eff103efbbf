//! `stsguard check DOMAIN`: the same rules on what DNS and the policy host serve
//! today, plus the NET family.

// An edge module: it reads the CA file and talks to the network.
#![allow(clippy::disallowed_methods)]

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use stsguard::lint::{lint_domain, sort_findings, DomainInput, Finding, MxSet};
use stsguard::live::findings::{dns_findings, fetch_findings};
use stsguard::live::{
    DnsError, FetcherConfig, HickoryResolver, PolicyFetcher, ReqwestFetcher, Resolver, TxtAnswer,
};

use crate::lint_cmd::{emit, FailOn, Format};

pub(crate) const LONG_ABOUT: &str = "\
Check a live domain: look up the TXT records at _mta-sts and _smtp._tls, the MX
set and the policy host mta-sts.DOMAIN, fetch
https://mta-sts.DOMAIN/.well-known/mta-sts.txt as a sender does (no redirects,
certificate checked for that name, at most 64 KiB read), and run the lint rules
on what was served, plus the NET rules: NET001 DNS failures, NET002 unreachable
or TLS failure, NET003 certificate, NET004 status not 200 (a redirect is
reported, not followed), NET005 Content-Type not text/plain, NET006 oversize
body, odd charset or slow answer.

--resolver IP[:PORT] sends every DNS query to that server (UDP and TCP) and
connects to the policy host at the address it gives, on port 443; --ca-file
adds the certificates in that PEM file to the trusted roots (the system's
web PKI roots stay trusted).
Together they point stsguard at a private DNS and CA (air-gapped networks,
tests).

The MX STARTTLS checks (NET007, NET008) are not implemented yet: --no-smtp
states that they are not wanted; without it a note says they were skipped.

Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 when
the invocation is unusable.";

/// Arguments of `stsguard check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The policy domain, e.g. example.com.
    #[arg(value_name = "DOMAIN")]
    domain: String,

    /// Send every DNS query to this server (port 53 unless given) instead of the
    /// system's resolvers.
    #[arg(long, value_name = "IP[:PORT]")]
    resolver: Option<String>,

    /// Also trust the CA certificates in this PEM file for the policy host.
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_file: Option<PathBuf>,

    /// Do not connect to the MX hosts (SMTP STARTTLS checks).
    #[arg(long)]
    no_smtp: bool,

    /// Timeout of the policy fetch in seconds (DNS attempts get at most 5 s).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

/// A CA file larger than this is refused.
const MAX_CA_FILE: u64 = 1 << 20;

fn parse_resolver(s: &str) -> Result<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match s.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 53)),
        Err(_) => bail!("--resolver {s:?} is not IP or IP:PORT"),
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let domain = args.domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || domain.len() > 253 || !domain.contains('.') {
        bail!("{:?} is not a domain name", args.domain);
    }
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let findings = runtime.block_on(async {
        let resolver = match resolver_addr {
            Some(addr) => HickoryResolver::at(addr, dns_timeout),
            None => HickoryResolver::system(dns_timeout),
        }
        .context("cannot set up the DNS resolver")?;
        check(
            &domain,
            &resolver,
            resolver_addr.is_some(),
            extra_roots_pem,
            timeout,
        )
        .await
    })?;
    if !args.no_smtp {
        eprintln!(
            "stsguard: note: the MX STARTTLS checks (NET007, NET008) are not implemented yet and were skipped"
        );
    }
    emit(
        args.format,
        args.fail_on,
        &findings,
        &domain,
        &stsguard::live::policy_url(&domain),
        None,
    )
}

/// The TXT records as the offline rules take them: `Some(empty)` when DNS says
/// there are none, `None` when the lookup failed.
fn records(answer: &Result<TxtAnswer, DnsError>) -> Option<Vec<Vec<Vec<u8>>>> {
    match answer {
        Ok(a) => Some(a.records.clone()),
        Err(e) if e.is_failure() => None,
        Err(_) => Some(Vec::new()),
    }
}

async fn check(
    domain: &str,
    resolver: &HickoryResolver,
    pin_policy_host: bool,
    extra_roots_pem: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<Vec<Finding>> {
    let sts_name = format!("_mta-sts.{domain}");
    let tlsrpt_name = format!("_smtp._tls.{domain}");
    let host = format!("mta-sts.{domain}");
    let (sts, tlsrpt, mx, host_addrs) = tokio::join!(
        resolver.txt(&sts_name),
        resolver.txt(&tlsrpt_name),
        resolver.mx(domain),
        resolver.addresses(&host)
    );
    let mut findings = dns_findings(domain, &sts, &host_addrs);

    // Fetch when the policy host resolves (a policy without a record is STS001).
    let mut policy = None;
    if let Ok(addrs) = &host_addrs {
        // With --resolver, connect where that resolver says, not where the
        // system's resolvers would.
        let resolve = if pin_policy_host {
            addrs
                .addresses
                .iter()
                .map(|ip| (host.clone(), SocketAddr::new(*ip, 443)))
                .collect()
        } else {
            Vec::new()
        };
        let fetcher = ReqwestFetcher::new(FetcherConfig {
            extra_roots_pem,
            resolve,
            timeout,
        })
        .context("cannot set up the HTTPS client")?;
        let fetched = fetcher.fetch(domain).await;
        findings.extend(fetch_findings(domain, &fetched));
        if let Ok(p) = fetched {
            if p.status == 200 {
                policy = Some(p);
            }
        }
    }

    let mx = match &mx {
        Ok(answer) => answer.to_mx_set(),
        Err(DnsError::NoData { .. }) => MxSet::NoMx,
        Err(_) => MxSet::Unknown,
    };
    let truncated = policy.as_ref().is_some_and(|p| p.truncated);
    let lint = lint_domain(&DomainInput {
        domain: domain.to_owned(),
        sts_records: records(&sts),
        tlsrpt_records: records(&tlsrpt),
        policy: policy.map(|p| p.body),
        mx,
    });
    // An oversize body is already reported by the fetch (the parser only saw
    // the first 64 KiB + 1 bytes of it).
    findings.extend(lint.into_iter().filter(|f| !(truncated && f.rule == "NET006")));
    sort_findings(&mut findings);
    Ok(findings)
}
