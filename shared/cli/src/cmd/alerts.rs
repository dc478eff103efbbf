//! `stsguard alerts`: the open (and recent) alerts of a store, and the daily
//! evaluation for stores that no Lambda looks after.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use stsguard::alerts::run::{run as evaluate, stored_alerts, AlertPaths, Notifier, NotifyError, Scope};
use stsguard::alerts::{Alert, AlertConfig, Evaluation, State};
use stsguard::store::ObjectStore;

use crate::args::{Store, StoreArgs};

pub(crate) const LONG_ABOUT: &str = "\
Show the alerts of a store: conditions that need someone now, not in
tomorrow's digest.

  stsguard alerts                       open alerts of ./stsguard-data
  stsguard alerts --all --format json   open and resolved, as stsguard/alert/v1 JSON
  stsguard alerts --evaluate            evaluate yesterday (UTC) first, print the messages

Rules: stopping-failure (a result type that stops mail, reported under an
enforcing policy, or above 5% of the sessions in testing mode),
failure-jump (the failure rate 5 points above the 7-day average),
reporter-silent (a regular reporter silent for 2 days), domain-silent (an
expected domain, --domain, without reports for 2 days). Each alert is
announced once when it opens, again after 24 hours if it still holds, and
once when it clears.

The thresholds above are defaults: --config stsguard.toml reads them from
its [alerts] table (testing_share_percent, failure_jump_points,
silence_days, reporter_min_days, remind_after_hours, min_interval_minutes,
max_messages_per_run) and the expected domains from its `domains`.

In AWS the ingest and digest functions evaluate alerts and publish the
messages to SNS; --evaluate does the daily evaluation for a local store,
using the stored digests of earlier days (run `stsguard digest` for them).";

/// Arguments of `stsguard alerts`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    store: StoreArgs,

    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,

    /// Show resolved alerts too.
    #[arg(long)]
    all: bool,

    /// Evaluate a complete day first (open, remind, resolve), printing each
    /// message that would be published.
    #[arg(long)]
    evaluate: bool,

    /// The day to evaluate (with --evaluate); default: yesterday (UTC).
    #[arg(long, value_name = "YYYY-MM-DD", requires = "evaluate")]
    day: Option<NaiveDate>,

    /// A domain expected to report every day (repeatable; with --evaluate;
    /// added to the configuration file's `domains`).
    #[arg(long = "domain", value_name = "DOMAIN", requires = "evaluate")]
    domains: Vec<String>,

    /// The thresholds: the `[alerts]` table of this file (and its `domains`,
    /// expected to report every day); with --evaluate.
    #[arg(long, value_name = "stsguard.toml", requires = "evaluate")]
    config: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Messages go to standard error, one block each.
struct Printer;

impl Notifier for Printer {
    async fn publish(&self, subject: &str, body: &str) -> Result<String, NotifyError> {
        let text = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default();
        eprintln!("{subject}\n{}", text.trim_end());
        Ok(String::new())
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match args.store.open(&rt)? {
        Store::S3(store) => rt.block_on(list(&store, &args)),
        Store::Dir(store) => rt.block_on(list(&store, &args)),
    }
}

async fn list<S: ObjectStore>(store: &S, args: &Args) -> Result<ExitCode> {
    if args.evaluate {
        // The edge: the clock is read here.
        #[allow(clippy::disallowed_methods)]
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        let day = args
            .day
            .unwrap_or_else(|| stsguard::digest::day_before(now.date_naive()));
        let mut config = match &args.config {
            Some(path) => super::lint::read_config(path)?.alerts,
            None => AlertConfig::default(),
        };
        for d in &args.domains {
            let d = stsguard::names::normalize(d);
            if !config.domains.contains(&d) {
                config.domains.push(d);
            }
        }
        let scope = Scope {
            day,
            kind: Evaluation::Daily,
            domain: None,
        };
        let r = evaluate(store, &Printer, &AlertPaths::default(), &config, scope, now)
            .await
            .context("alert evaluation failed")?;
        eprintln!(
            "stsguard: evaluated {day}: {} condition(s) hold, {} message(s), {} open alert(s)",
            r.firing, r.messages, r.open
        );
    }
    let alerts: Vec<Alert> = stored_alerts(store)
        .await
        .with_context(|| format!("cannot read the alerts of {}", args.store.name()))?
        .into_iter()
        .filter(|a| args.all || a.state == State::Open)
        .collect();
    let mut out = crate::output::stdout();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&alerts)?)?,
        Format::Text => {
            if alerts.is_empty() {
                writeln!(out, "no {}alerts", if args.all { "" } else { "open " })?;
            }
            for a in &alerts {
                let state = match a.state {
                    State::Open => "OPEN",
                    State::Resolved => "RESOLVED",
                };
                let subject = if a.subject.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", stsguard::text::escaped(&a.subject, 80))
                };
                writeln!(
                    out,
                    "{state:<8} {} {}{subject}\n         since {}, last seen {}; reports of {}\n         {}",
                    stsguard::text::escaped(&a.domain, 253),
                    a.rule.as_str(),
                    a.first_seen,
                    a.last_seen,
                    a.evidence.day,
                    stsguard::text::escaped(&a.evidence.summary, 400),
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
