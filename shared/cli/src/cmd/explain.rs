//! `stsguard explain RULE`: a rule of the catalogue in plain words.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{bail, Result};
use stsguard::diag::Severity;
use stsguard::lint::{rule, RULES};

pub(crate) const LONG_ABOUT: &str = "\
Explain a lint rule: what it checks, how to fix it, its default severity and
the RFC sections behind it.

  stsguard explain XCK004     one rule
  stsguard explain all        every rule: ID, default severity, title

Rule IDs are stable: STS* the _mta-sts record, TLR* the _smtp._tls record,
POL* the policy file, XCK* cross-checks, NET* live checks, DAN* TLSA records
(DANE for SMTP), PLN* what a Terraform plan cannot tell.";

/// Arguments of `stsguard explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A rule ID such as STS004, POL003 or XCK001; `all` lists every rule.
    #[arg(value_name = "RULE")]
    rule: String,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let id = args.rule.trim().to_ascii_uppercase();
    let mut out = crate::output::stdout();
    if id == "ALL" {
        for r in RULES {
            writeln!(out, "{}  {:<7}  {}", r.id, severity(r.severity), r.title)?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(r) = rule(&id) else {
        let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        bail!(
            "unknown rule {:?}: this version implements {} (see `stsguard explain all`)",
            args.rule,
            known.join(", ")
        );
    };
    writeln!(out, "{}: {}\n\n{}", r.id, r.title, r.help)?;
    writeln!(out, "\nDefault severity: {}.", severity(r.severity))?;
    if !r.rfc.is_empty() {
        writeln!(out, "See {}.", r.rfc)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
