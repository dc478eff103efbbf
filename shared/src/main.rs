//! The `stsguard` command-line tool: glue between arguments, files and the
//! library. Errors are printed once, with their causes; exit codes are 0 (done),
//! 1 (findings at or above the threshold, for commands that have findings) and
//! 2 (the input or the invocation was unusable).

mod check_cmd;
mod digest_cmd;
mod ingest_cmd;
mod lint_cmd;
mod live_cmd;
mod store_arg;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Watch the TLS of your inbound mail and guard your MTA-STS deployment: ingest
/// SMTP TLS reports (RFC 8460) into a store of normalized JSON, digest each day in
/// plain words, and lint MTA-STS records and policies before they ship.
#[derive(Debug, Parser)]
#[command(name = "stsguard", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ingest report mail (.eml) and report files (.json, .json.gz, .zip) into a store.
    #[command(long_about = ingest_cmd::LONG_ABOUT)]
    Ingest(ingest_cmd::Args),
    /// Digest one UTC day of stored reports per domain: what failed, why, what to do; optionally mail it.
    #[command(long_about = digest_cmd::LONG_ABOUT)]
    Digest(digest_cmd::Args),
    /// Lint MTA-STS/TLSRPT records, policies and MX sets: a Terraform plan, or one domain's parts.
    #[command(long_about = lint_cmd::LONG_ABOUT)]
    Lint(lint_cmd::Args),
    /// Check a live domain: DNS records, MX set and the policy over HTTPS, with the lint and NET rules.
    #[command(long_about = check_cmd::LONG_ABOUT)]
    Check(check_cmd::Args),
    /// Explain a lint rule: what it checks and how to fix it (e.g. `stsguard explain XCK004`).
    Explain {
        /// A rule ID such as STS004, POL003 or XCK001; `all` lists every rule.
        #[arg(value_name = "RULE")]
        rule: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => ingest_cmd::run(args),
        Command::Digest(args) => digest_cmd::run(args),
        Command::Lint(args) => lint_cmd::run(args),
        Command::Check(args) => check_cmd::run(args),
        Command::Explain { rule } => lint_cmd::explain(&rule),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("stsguard: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
