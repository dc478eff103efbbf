//! The `stsguard` command-line tool: glue between arguments, files and the
//! library. Errors are printed once, with their causes; exit codes are 0 (done),
//! 1 (findings at or above the threshold, for commands that have findings) and
//! 2 (the input or the invocation was unusable). Standard output closed early
//! (a pipe into `head`) ends the program quietly.

mod args;
mod cmd;
mod output;

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
    #[command(long_about = cmd::ingest::LONG_ABOUT)]
    Ingest(cmd::ingest::Args),
    /// Digest one UTC day of stored reports per domain: what failed, why, what to do; optionally mail it.
    #[command(long_about = cmd::digest::LONG_ABOUT)]
    Digest(cmd::digest::Args),
    /// Lint MTA-STS/TLSRPT records, policies and MX sets: a Terraform plan, or one domain's parts.
    #[command(long_about = cmd::lint::LONG_ABOUT)]
    Lint(cmd::lint::Args),
    /// Check a live domain: DNS records, MX set and the policy over HTTPS, with the lint and NET rules.
    #[command(long_about = cmd::check::LONG_ABOUT)]
    Check(cmd::check::Args),
    /// Receive reports over HTTPS (RFC 8460 `rua=https:`): a POST endpoint, behind a TLS proxy.
    #[command(long_about = cmd::receive::LONG_ABOUT)]
    Receive(cmd::receive::Args),
    /// Show open alerts (failures that stop mail, jumps, silent reporters); evaluate a day.
    #[command(long_about = cmd::alerts::LONG_ABOUT)]
    Alerts(cmd::alerts::Args),
    /// Explain a lint rule: what it checks and how to fix it (e.g. `stsguard explain XCK004`).
    #[command(long_about = cmd::explain::LONG_ABOUT)]
    Explain(cmd::explain::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Ingest(args) => cmd::ingest::run(args),
        Command::Digest(args) => cmd::digest::run(args),
        Command::Lint(args) => cmd::lint::run(args),
        Command::Check(args) => cmd::check::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Receive(args) => cmd::receive::run(args),
        Command::Alerts(args) => cmd::alerts::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) if output::is_closed_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stsguard: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
