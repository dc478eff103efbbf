//! `stsguard digest`: one day's reports from a store, aggregated, stored as a
//! digest and printed (and, with `--send`, mailed through SES).

// An edge module: it reads the clock and writes files by design.
#![allow(clippy::disallowed_methods)]

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use stsguard::digest::message::check_address;
use stsguard::digest::render::count;
use stsguard::digest::run::{run as run_digest, RunConfig, RunOutcome, Sending};
use stsguard::digest::{day_before, render, DigestConfig};
use stsguard::mailer::ses::SesMailer;
use stsguard::mailer::RecordingMailer;
use stsguard::store::ObjectStore;

use crate::args::{Store, StoreArgs};

pub(crate) const LONG_ABOUT: &str = "\
Aggregate one UTC day of normalized reports into a digest.

Reads STORE/reports/v1/day=DAY/ (every domain), compares each domain with the
13 days before (from the stored digests STORE/digests/day=*.json), explains
every failure type, and writes
  STORE/digests/day=DAY.json   the aggregate (schema stsguard/digest/v1; the
                               trend input of later days)
  STORE/digests/day=DAY.html   the digest page, charts embedded
  STORE/digests/day=DAY.eml    the mail it sends (text + HTML + inline charts)
replacing an earlier run's, then prints the digest in --format.

With --send the mail goes out through Amazon SES (SendRawEmail; AWS credentials,
region and AWS_ENDPOINT_URL from the usual environment) to every --to from
--from, which SES must have verified. A marker STORE/digests/day=DAY.sent keeps a
day from being sent twice; delete it to send that day again.

Exit status: 0 when the digest was made (whatever it says), 2 when the store,
the addresses or the sending failed.";

/// Arguments of `stsguard digest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArgs,

    /// The UTC day to digest [default: yesterday, UTC].
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    day: Option<NaiveDate>,

    /// What to print (or write to --out).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Write the output to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,

    /// Send the mail through SES (needs --from and --to).
    #[arg(long)]
    send: bool,

    /// Sender address of the mail (an address SES has verified).
    #[arg(
        long,
        value_name = "ADDRESS",
        default_value = "stsguard@localhost.localdomain"
    )]
    from: String,

    /// A recipient of the mail; repeat for several.
    #[arg(long, value_name = "ADDRESS")]
    to: Vec<String>,

    /// A domain expected to report every day; a day without its reports is
    /// flagged. Repeat for several.
    #[arg(long = "domain", value_name = "DOMAIN")]
    domains: Vec<String>,

    /// Flag a failure rate this many percentage points above the 7-day average.
    #[arg(long, value_name = "POINTS", default_value_t = 5.0)]
    failure_jump: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Html,
    Json,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date like 2024-11-08"))
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let now: DateTime<Utc> = DateTime::<Utc>::from(std::time::SystemTime::now());
    let day = args.day.unwrap_or_else(|| day_before(now.date_naive()));
    if args.send && args.to.is_empty() {
        bail!("--send needs at least one --to ADDRESS");
    }
    if !(args.failure_jump.is_finite() && args.failure_jump >= 0.0) {
        bail!("--failure-jump must be a number of percentage points, 0 or more");
    }
    check_address("From", &args.from).context("--from")?;
    for a in &args.to {
        check_address("To", a).context("--to")?;
    }
    let to = if args.to.is_empty() {
        vec!["postmaster@localhost.localdomain".to_owned()]
    } else {
        args.to.clone()
    };
    let config = RunConfig {
        digest: DigestConfig {
            domains: args
                .domains
                .iter()
                .map(|d| stsguard::names::normalize(d))
                .collect(),
            failure_jump_points: args.failure_jump,
            ..DigestConfig::default()
        },
        from: args.from.clone(),
        to,
        ..RunConfig::default()
    };

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let store_name = args.store.name();
    let outcome = match args.store.open(&rt)? {
        Store::S3(store) => rt.block_on(digest_with(&store, &config, day, now, args.send))?,
        Store::Dir(store) => rt.block_on(digest_with(&store, &config, day, now, args.send))?,
    };

    let output = match args.format {
        Format::Text => outcome.text.clone(),
        Format::Html => outcome.html.clone(),
        Format::Json => render::json(&outcome.digest),
    };
    match &args.out {
        Some(path) => std::fs::write(path, output.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = crate::output::stdout();
            out.write_all(output.as_bytes())?;
            out.flush()?;
        }
    }
    let t = &outcome.digest.totals;
    let sent = match &outcome.sending {
        Sending::NotRequested => "not sent (--send sends it)".to_owned(),
        Sending::Sent(id) => format!("sent (message id {id})"),
        Sending::AlreadySent => "already sent by an earlier run (marker kept)".to_owned(),
    };
    eprintln!(
        "digest {day}: {} in {} from {}, {}; wrote {} in {store_name}; {sent}",
        count(t.reports, "report"),
        count(t.domains, "domain"),
        count(outcome.listed as u64, "stored object"),
        count(outcome.history_days as u64, "earlier digest"),
        outcome.written.join(", "),
    );
    Ok(ExitCode::SUCCESS)
}

async fn digest_with<S: ObjectStore>(
    store: &S,
    config: &RunConfig,
    day: NaiveDate,
    now: DateTime<Utc>,
    send: bool,
) -> Result<RunOutcome> {
    // The open alerts of the store (`stsguard alerts --evaluate` keeps them)
    // are listed in the digest.
    let mut config = config.clone();
    config.open_alerts = stsguard::alerts::run::stored_alerts(store)
        .await
        .context("cannot read the store's alerts")?
        .iter()
        .filter(|a| a.state == stsguard::alerts::State::Open)
        .map(stsguard::alerts::Alert::listed)
        .collect();
    let config = &config;
    let outcome = if send {
        let mailer = SesMailer::from_env().await;
        run_digest(store, &mailer, config, day, now, true).await
    } else {
        run_digest(store, &RecordingMailer::new(), config, day, now, false).await
    };
    outcome.context("the digest failed")
}
