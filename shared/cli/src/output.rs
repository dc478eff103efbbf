//! What the commands print, in one place: the findings formats and the
//! `--fail-on` threshold of `lint` and `check`, colour, and standard output
//! that may be closed early (`stsguard lint plan.json | head` ends quietly).

// An edge module: it reads the environment (NO_COLOR).
#![allow(clippy::disallowed_methods)]

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use stsguard::diag::Severity;
use stsguard::lint::output::{to_github, to_json, to_sarif, to_text};
use stsguard::lint::Finding;

/// `--format` and `--fail-on` of the commands that report findings.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FindingsArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
}

/// How findings are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Grouped by domain, coloured on a terminal (NO_COLOR turns colour off).
    Text,
    /// A list of findings: rule, severity, domain, message, address, help.
    Json,
    /// SARIF 2.1.0 with rule metadata, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// The lowest severity that fails the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Info,
}

/// Standard output, buffered; write errors (a closed pipe) are returned, not
/// turned into a panic as `println!` would.
pub(crate) fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::new(io::stdout().lock())
}

/// Whether to colour text output: standard output is a terminal and NO_COLOR
/// is not set.
pub(crate) fn colour() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Whether `e` is (caused by) writing to a pipe whose reader has gone.
pub(crate) fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Writes `findings` as `args.format` says and returns the exit code for
/// `args.fail_on`. `label` names the input in text; `artifact` in SARIF;
/// `file` is the file GitHub annotations point at, when there is one.
pub(crate) fn emit(
    args: &FindingsArgs,
    findings: &[Finding],
    label: &str,
    artifact: &str,
    file: Option<&str>,
    out: &mut impl Write,
) -> Result<ExitCode> {
    match args.format {
        Format::Json => writeln!(out, "{}", to_json(findings))?,
        Format::Sarif => {
            let sarif = serde_json::to_string_pretty(&to_sarif(findings, artifact))?;
            writeln!(out, "{sarif}")?;
        }
        Format::Github => write!(out, "{}", to_github(findings, file))?,
        Format::Text => write!(out, "{}", to_text(label, findings, colour()))?,
    }
    out.flush()?;
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
