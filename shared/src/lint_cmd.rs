//! `stsguard lint --domain`: one domain's records, policy and MX set, without
//! Terraform.

// An edge module: it reads the policy file.
#![allow(clippy::disallowed_methods)]

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use stsguard::diag::Severity;
use stsguard::lint::{lint_domain, to_github, to_sarif, DomainInput, Finding, MxSet};
use stsguard::records::parse_presentation;

pub(crate) const LONG_ABOUT: &str = "\
Lint one domain's MTA-STS and TLSRPT deployment before it ships: the TXT records
at _mta-sts and _smtp._tls, the mta-sts.txt policy, and the MX set, exactly as DNS
and HTTPS would serve them. Findings use the stable rule IDs of the catalogue
(STS*, TLR*, POL*, XCK*), each with a one-line message and help.

Parts that are not given are not guessed: the checks that need them are skipped.
The MX cross-checks (every MX host covered by an mx pattern: XCK001; the bare
domain when there is no MX: XCK002) run when the policy is testing or enforce and
the MX set is given with --mx or --no-mx.

Examples:
  stsguard lint --domain example.com --policy mta-sts.txt \\
      --sts-record 'v=STSv1; id=20240601T000000' \\
      --tlsrpt-record 'v=TLSRPTv1; rua=mailto:tlsrpt@example.com' \\
      --mx mx1.example.com --mx mx2.example.com
  stsguard lint --domain example.com --sts-record '\"v=STSv1; id=2024\" \"0601\"'

Exit status: 0 when no finding is at or above --fail-on, 1 when one is, 2 when
the invocation or an input file is unusable. Reading Terraform plans
(stsguard lint PLAN.json) is not available in this version.";

/// Arguments of `stsguard lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The policy domain.
    #[arg(long, value_name = "DOMAIN")]
    domain: String,

    /// A TXT record at _mta-sts.DOMAIN, once per record. Its text, or its
    /// character-strings as dig prints them ("v=STSv1; id=2024" "0601").
    #[arg(long = "sts-record", value_name = "TXT")]
    sts_records: Vec<String>,

    /// A TXT record at _smtp._tls.DOMAIN, once per record (same forms).
    #[arg(long = "tlsrpt-record", value_name = "TXT")]
    tlsrpt_records: Vec<String>,

    /// The mta-sts.txt body, read byte-exact.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,

    /// An MX host of the domain, once per MX record; `.` is a null MX (RFC 7505).
    #[arg(long = "mx", value_name = "HOST", conflicts_with = "no_mx")]
    mx: Vec<String>,

    /// The domain has no MX records (mail then goes to the domain itself).
    #[arg(long)]
    no_mx: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Grouped by domain, coloured on a terminal (NO_COLOR turns colour off).
    Text,
    /// A list of findings: rule, severity, domain, message, address, help.
    Json,
    /// SARIF 2.1.0 with rule metadata, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
}

/// A policy file larger than this is not read further (senders read 64 KiB).
const MAX_POLICY_FILE: u64 = 1 << 20;

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let policy = match &args.policy {
        Some(path) => {
            let mut body = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_POLICY_FILE).read_to_end(&mut body))
                .with_context(|| format!("cannot read the policy {}", path.display()))?;
            Some(body)
        }
        None => None,
    };
    let records = |list: &[String]| {
        (!list.is_empty()).then(|| list.iter().map(|t| parse_presentation(t)).collect::<Vec<_>>())
    };
    let mx = if args.no_mx {
        MxSet::NoMx
    } else if args.mx.iter().any(|m| m.trim() == ".") {
        MxSet::Null
    } else if args.mx.is_empty() {
        MxSet::Unknown
    } else {
        MxSet::Hosts(args.mx.clone())
    };
    let findings = lint_domain(&DomainInput {
        domain: args.domain.clone(),
        sts_records: records(&args.sts_records),
        tlsrpt_records: records(&args.tlsrpt_records),
        policy,
        mx,
    });
    match args.format {
        Format::Json => {
            let json = serde_json::to_string_pretty(&findings).context("cannot render the findings")?;
            println!("{json}");
        }
        Format::Sarif => {
            let artifact = args
                .policy
                .as_ref()
                .map_or_else(|| format!("mta-sts/{}", args.domain), |p| p.display().to_string());
            let json = serde_json::to_string_pretty(&to_sarif(&findings, &artifact))
                .context("cannot render SARIF")?;
            println!("{json}");
        }
        Format::Github => {
            let file = args.policy.as_ref().map(|p| p.display().to_string());
            print!("{}", to_github(&findings, file.as_deref()));
        }
        Format::Text => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print_text(&args.domain, &findings, colour);
        }
    }
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    Ok(if findings.iter().any(|f| f.severity >= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_text(domain: &str, findings: &[Finding], colour: bool) {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    println!("{domain}");
    if findings.is_empty() {
        println!("  no findings");
    }
    for f in findings {
        let (sev, code) = match f.severity {
            Severity::Error => ("error", "31"),
            Severity::Warning => ("warning", "33"),
            Severity::Info => ("info", "36"),
        };
        let sev = format!("{sev:<8}");
        let sev = if colour {
            format!("\x1b[1;{code}m{sev}\x1b[0m")
        } else {
            sev
        };
        println!("  {sev}{}  {}", f.rule, f.message);
        println!("          help: {}", f.help);
    }
    println!(
        "{} error(s), {} warning(s), {} info",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
}
