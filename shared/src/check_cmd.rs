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
use stsguard::live::findings::{dns_findings, fetch_findings, smtp_findings};
use stsguard::live::{
    DnsError, FetcherConfig, HickoryResolver, PolicyFetcher, ReqwestFetcher, Resolver, SmtpConfig, SmtpError,
    SmtpProbe, TokioSmtpProbe, TxtAnswer,
};
use stsguard::policy::parse_policy;
use stsguard::policy::Mode;

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
connects to the policy host at the address it gives, on port 443, and to the
MX hosts at theirs; --ca-file
adds the certificates in that PEM file to the trusted roots (the system's
web PKI roots stay trusted).
Together they point stsguard at a private DNS and CA (air-gapped networks,
tests).

Unless --no-smtp, every MX host is probed at the same time as a sending MTA
does: banner, EHLO, STARTTLS, a TLS handshake with SNI = the MX host name and
the certificate checked for it (the same trusted roots as the policy host),
QUIT. NET007: no STARTTLS (error in enforce mode, warning otherwise), a failed
upgrade or an MX that cannot be probed (warning: port 25 is blocked on many
networks); NET008: the certificate is not valid for the MX host name, untrusted
or expired (error in enforce mode, warning otherwise). --smtp-port connects to
another port than 25 (a test setup, a port redirect). With --resolver the MX
hosts are connected to at the address that resolver gives.

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

    /// The port of the MX hosts' SMTP servers.
    #[arg(long = "smtp-port", value_name = "PORT", default_value_t = 25, value_parser = clap::value_parser!(u16).range(1..))]
    smtp_port: u16,

    /// Timeout of the policy fetch and of each MX probe in seconds (DNS attempts get at most 5 s).
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
        let pin = resolver_addr.is_some();
        let mut findings = check(&domain, &resolver, pin, extra_roots_pem, timeout).await?;
        if let Some(smtp) = &smtp {
            findings
                .0
                .extend(probe_mx_hosts(&domain, &resolver, pin, smtp, args.smtp_port, &findings.1).await);
            sort_findings(&mut findings.0);
        }
        anyhow::Ok(findings.0)
    })?;
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

/// What [`check`] learnt that the MX probes need.
struct Learnt {
    /// The MX hosts (none for a null MX or a failed lookup).
    mx_hosts: Vec<String>,
    /// The policy's mode, when a policy was served.
    mode: Option<Mode>,
}

/// NET007 and NET008 for every MX host, probed concurrently. With
/// `pin_addresses`, each host is connected to at its first address from
/// `resolver`, on `port`.
async fn probe_mx_hosts(
    domain: &str,
    resolver: &HickoryResolver,
    pin_addresses: bool,
    smtp: &TokioSmtpProbe,
    port: u16,
    learnt: &Learnt,
) -> Vec<Finding> {
    let probes = learnt.mx_hosts.iter().map(|host| async move {
        let result = if pin_addresses {
            match resolver.addresses(host).await {
                Ok(a) => match a.addresses.first() {
                    Some(ip) => smtp.probe(host, Some(SocketAddr::new(*ip, port))).await,
                    None => Err(SmtpError::Connect {
                        host: host.clone(),
                        message: "no A or AAAA record".into(),
                    }),
                },
                Err(e) => Err(SmtpError::Connect {
                    host: host.clone(),
                    message: e.to_string(),
                }),
            }
        } else {
            smtp.probe(host, None).await
        };
        smtp_findings(domain, host, learnt.mode.as_ref(), &result)
    });
    futures_util::future::join_all(probes)
        .await
        .into_iter()
        .flatten()
        .collect()
}

async fn check(
    domain: &str,
    resolver: &HickoryResolver,
    pin_policy_host: bool,
    extra_roots_pem: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<(Vec<Finding>, Learnt)> {
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

    let mode = policy
        .as_ref()
        .and_then(|p| parse_policy(&p.body, Some(domain)).policy.mode);
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
        mx: mx.clone(),
    });
    // An oversize body is already reported by the fetch (the parser only saw
    // the first 64 KiB + 1 bytes of it).
    findings.extend(lint.into_iter().filter(|f| !(truncated && f.rule == "NET006")));
    sort_findings(&mut findings);
    let mx_hosts = match mx {
        MxSet::Hosts(hosts) => hosts,
        _ => Vec::new(),
    };
    Ok((findings, Learnt { mx_hosts, mode }))
}
