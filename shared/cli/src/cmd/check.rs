//! `stsguard check DOMAIN`: the same rules on what DNS and the policy host serve
//! today, plus the NET family.

// An edge module: it reads the CA file and talks to the network.
#![allow(clippy::disallowed_methods)]

use std::process::ExitCode;

use std::io::Write;

use anyhow::{bail, Result};
use stsguard::live::assess::{check_findings, describe};

use crate::args::LiveArgs;
use crate::output::{emit, FindingsArgs, Format};

pub(crate) const LONG_ABOUT: &str = "\
Check a live domain end to end, as a sending MTA sees it:

  DNS     the TXT records at _mta-sts and _smtp._tls (with their TTL and whether
          the resolver validated them with DNSSEC), the MX set, the address of
          the policy host mta-sts.DOMAIN (following CNAMEs)
  HTTPS   https://mta-sts.DOMAIN/.well-known/mta-sts.txt fetched as senders do:
          SNI and certificate for that name, status 200 only, redirects
          reported and not followed, at most 64 KiB read
  SMTP    every MX host at once: banner, EHLO, STARTTLS, a TLS handshake with
          SNI = the MX host name and its certificate checked for that name,
          then a second handshake without SNI (servers must not require it)
  rua     each report destination of the TLSRPT record: a mailto: domain must
          accept mail (MX, no null MX); an https: endpoint must answer an
          empty POST (Content-Type application/tlsrpt+gzip) with a 2xx or a 4xx
          that judges the body

The text output first lists what was served (records with TTL and DNSSEC
state, the policy, TLS versions and certificates), then the findings: every
lint rule on the served records, policy and MX set (STS*, TLR*, POL*, XCK*),
and the NET rules: NET001 DNS failures and dangling CNAMEs, NET002 policy host
unreachable or TLS failure, NET003 its certificate (a warning 14 days before it
ends), NET004 status not 200, NET005 Content-Type not text/plain, NET006
charset, size, slowness or a long shared cache lifetime, NET007 MX without
STARTTLS (error in enforce mode), with TLS below 1.2 or requiring SNI, or that
cannot be probed (port 25 is blocked on many networks: --no-smtp skips the
probes), NET008 MX certificate not valid for the MX name, untrusted or expired
(error in enforce mode; a warning 14 days before it ends), NET009 report
destinations that cannot receive reports. Every finding names the RFC section;
`stsguard explain RULE` tells what a rule checks and how to fix it.

--resolver IP[:PORT] sends every DNS query to that server (UDP and TCP) and
connects to the policy host, the MX hosts (port --smtp-port) and https report
endpoints at the addresses it gives; --ca-file adds the certificates in that
PEM file to the trusted roots (the web PKI roots stay trusted). Together they
point stsguard at a private DNS and CA (air-gapped networks, tests).

--timeout bounds each fetch, MX probe and report-endpoint check; DNS lookups
get at most 5 s each. The lookups run first, then everything else at once, so
a check ends within about --timeout plus 10 s.

Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 when
the invocation is unusable.";

/// Arguments of `stsguard check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The policy domain, e.g. example.com.
    #[arg(value_name = "DOMAIN")]
    domain: String,

    #[command(flatten)]
    live: LiveArgs,

    #[command(flatten)]
    output: FindingsArgs,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    if !stsguard::names::is_domain_argument(&args.domain) {
        bail!("{:?} is not a domain name", args.domain);
    }
    let domain = stsguard::names::normalize(&args.domain);
    let live = args.live.gather(std::slice::from_ref(&domain))?;
    let Some(live) = live.first() else {
        bail!("nothing was checked");
    };
    let findings = check_findings(live);
    let mut out = crate::output::stdout();
    if args.output.format == Format::Text {
        writeln!(out, "{domain}: what is served")?;
        let facts = describe(live);
        let width = facts
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0)
            .min(48);
        for (label, text) in &facts {
            writeln!(out, "  {label:<width$}  {text}")?;
        }
        writeln!(out)?;
    }
    emit(
        &args.output,
        &findings,
        &domain,
        &stsguard::live::policy_url(&domain),
        None,
        &mut out,
    )
}
