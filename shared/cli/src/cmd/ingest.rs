//! `stsguard ingest`: files and directories into a local store.

// An edge module: it touches the filesystem by design.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{bail, Context, Result};
use stsguard::ingest::{self, IngestConfig, InputContext, InputKind};
use stsguard::store::ObjectStore;

use crate::args::{Store, StoreArgs};

pub(crate) const LONG_ABOUT: &str = "\
Ingest SMTP TLS reports (RFC 8460) into a store.

Each PATH is a file or a directory (walked recursively; hidden files are skipped).
Files ending in .json, .json.gz, .gz or .zip are bare reports; anything else
(.eml, no extension) is read as a mail message, and every report part in it is
taken: application/tlsrpt+gzip and +json, gzip, zip and JSON attachments,
forwarded messages, and single-part mails whose body is the report.

Each report is normalized (schema stsguard/report/v1) and written once to
  STORE/reports/v1/day=YYYY-MM-DD/domain=DOMAIN/ID.json
where ID is a stable hash of the sender and its report-id, so ingesting the same
report again is a no-op (counted as a duplicate). The same sender and report-id
with another content keeps the first and is counted as a conflict, recorded in
  STORE/rejected/day=YYYY-MM-DD/conflict-ID-SHA256-OF-CONTENT.json Input that holds no usable
report is not lost: a record saying why goes to
  STORE/rejected/day=YYYY-MM-DD/SHA256-OF-INPUT.json

Exit status: 0 when every input was processed (a rejected mail counts as
processed), 2 when an input could not be read or the store is unusable.";

/// Arguments of `stsguard ingest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Report mails (.eml) or report files (.json, .json.gz, .gz, .zip), or directories of them.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    store: StoreArgs,

    /// Format of the closing summary on standard output.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// No progress bar, even on a terminal.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Default, serde::Serialize)]
struct Summary {
    inputs: usize,
    reports_written: usize,
    duplicates: usize,
    conflicts: usize,
    rejected: BTreeMap<String, usize>,
    rejected_already_stored: usize,
    warnings: usize,
    unreadable: usize,
    store: String,
}

pub(crate) fn run(args: Args) -> Result<ExitCode> {
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, &mut files).with_context(|| format!("cannot read {}", p.display()))?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let store_name = args.store.name();
    let sum = match args.store.open(&rt)? {
        Store::S3(store) => ingest_files(&rt, &store, &files, &store_name, args.quiet)?,
        Store::Dir(store) => ingest_files(&rt, &store, &files, &store_name, args.quiet)?,
    };
    print_summary(&sum, args.format, &mut crate::output::stdout())?;
    Ok(if sum.unreadable > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Inputs read and prepared ahead of the writer, at most.
const AHEAD: usize = 1024;

/// Inputs stored per group: one group of flushes for a local store, the
/// requests of a group `CONCURRENCY` at a time for S3.
const BATCH: usize = 1024;

/// S3 requests in flight while storing a group.
const CONCURRENCY: usize = 32;

/// One input, read and prepared by a worker.
enum Ready {
    Prepared(ingest::Serialized),
    Unreadable(String),
}

/// Reads and prepares the inputs on every core while this thread stores them
/// in groups, in the order given (so that of two deliveries of one report the
/// first named is the one kept, as when run one by one).
fn ingest_files<S: ObjectStore>(
    rt: &tokio::runtime::Runtime,
    store: &S,
    files: &[PathBuf],
    store_name: &str,
    quiet: bool,
) -> Result<Summary> {
    let config = IngestConfig::default();
    let bar = (!quiet && std::io::stderr().is_terminal() && files.len() > 1).then(|| {
        let b = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}") {
            b.set_style(style);
        }
        b
    });

    let mut sum = Summary {
        inputs: files.len(),
        store: store_name.to_owned(),
        ..Summary::default()
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(files.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let config = &config;
    std::thread::scope(|scope| -> Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(usize, Ready)>(AHEAD);
        for _ in 0..workers {
            let (tx, next) = (tx.clone(), &next);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                if tx.send((i, prepare_file(path, config))).is_err() {
                    break; // the writer stopped
                }
            });
        }
        drop(tx);
        // Inputs arrive in any order; they are stored in the order given.
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        let mut batch = Vec::new();
        let mut names = Vec::new();
        for (i, ready) in rx {
            waiting.insert(i, ready);
            while let Some(ready) = waiting.remove(&due) {
                let name = files[due].display().to_string();
                due += 1;
                match ready {
                    Ready::Prepared(p) => {
                        batch.push(p);
                        names.push(name);
                    }
                    Ready::Unreadable(msg) => {
                        sum.unreadable += 1;
                        let msg = format!("stsguard: cannot read {name}: {msg}");
                        match &bar {
                            Some(b) => {
                                b.println(msg);
                                b.inc(1);
                            }
                            None => eprintln!("{msg}"),
                        }
                    }
                }
                if batch.len() >= BATCH {
                    store_group(rt, store, &mut batch, &mut names, &mut sum, bar.as_ref())?;
                }
            }
        }
        store_group(rt, store, &mut batch, &mut names, &mut sum, bar.as_ref())
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(sum)
}

fn prepare_file(path: &Path, config: &IngestConfig) -> Ready {
    let name = path.display().to_string();
    let ctx = InputContext {
        channel: "file".into(),
        input: Some(name.clone()),
        ..InputContext::default()
    };
    let kind = InputKind::from_file_name(&name);
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let prepared = match read_capped(path, config.limits.max_mail_bytes) {
        Ok(Input::Bytes(raw)) => ingest::prepare(&raw, kind, &ctx, config, now),
        Ok(Input::TooLarge { sha256, bytes }) => ingest::prepare_oversize(&sha256, bytes, &ctx, config, now),
        Err(e) => return Ready::Unreadable(format!("{e:#}")),
    };
    // Serialized here, on the worker: the JSON is what the writer needs, and
    // it is a fraction of the reports' size in memory.
    Ready::Prepared(prepared.serialize())
}

/// Stores one group and adds its outcomes to the summary.
fn store_group<S: ObjectStore>(
    rt: &tokio::runtime::Runtime,
    store: &S,
    batch: &mut Vec<ingest::Serialized>,
    names: &mut Vec<String>,
    sum: &mut Summary,
    bar: Option<&indicatif::ProgressBar>,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcomes = rt
        .block_on(ingest::store_batch(store, std::mem::take(batch), CONCURRENCY))
        .with_context(|| {
            let (first, last) = (names.first().cloned().unwrap_or_default(), names.last().cloned().unwrap_or_default());
            format!("storing the results of {first} .. {last} failed; the store is unusable (a re-run finishes the work)")
        })?;
    for outcome in outcomes {
        sum.reports_written += outcome.written.len();
        sum.duplicates += outcome.duplicates.len();
        sum.conflicts += outcome.conflicts.len();
        sum.warnings += outcome.warnings;
        if let Some((reason, _key, already)) = outcome.rejected {
            if already {
                sum.rejected_already_stored += 1;
            } else {
                *sum.rejected.entry(reason.as_str().to_owned()).or_default() += 1;
            }
        }
        if let Some(b) = bar {
            b.inc(1);
        }
    }
    names.clear();
    Ok(())
}

fn print_summary(sum: &Summary, format: Format, out: &mut impl Write) -> Result<()> {
    match format {
        Format::Json => {
            writeln!(
                out,
                "{}",
                String::from_utf8_lossy(&ingest::to_json(sum)).trim_end()
            )?;
        }
        Format::Text => {
            let rejected: usize = sum.rejected.values().sum();
            let by_reason = if sum.rejected.is_empty() {
                String::new()
            } else {
                let parts: Vec<String> = sum.rejected.iter().map(|(r, n)| format!("{r}: {n}")).collect();
                format!(" ({})", parts.join(", "))
            };
            writeln!(
                out,
                "{} input{} -> {} report{} written, {} duplicate{}, {} rejected{}",
                sum.inputs,
                plural(sum.inputs),
                sum.reports_written,
                plural(sum.reports_written),
                sum.duplicates,
                plural(sum.duplicates),
                rejected,
                by_reason,
            )?;
            if sum.conflicts > 0 {
                writeln!(
                    out,
                    "{} conflicting redelivery(ies): a report stored before came again with another content; \
                     the first is kept, each conflict is recorded under rejected/ (conflict-*.json)",
                    sum.conflicts
                )?;
            }
            if sum.rejected_already_stored > 0 {
                writeln!(
                    out,
                    "{} rejected input(s) had been recorded before",
                    sum.rejected_already_stored
                )?;
            }
            if sum.warnings > 0 {
                writeln!(
                    out,
                    "{} warning(s) recorded in the reports written (see their \"warnings\")",
                    sum.warnings
                )?;
            }
            if sum.unreadable > 0 {
                writeln!(out, "{} input(s) could not be read (see above)", sum.unreadable)?;
            }
            writeln!(
                out,
                "store: {} (reports under reports/v1/, rejection records under rejected/)",
                sum.store
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Collects the files under `path`, sorted, skipping hidden entries. A path
/// given on the command line is followed if it is a symbolic link; inside a
/// directory, links to files are taken and links to directories are not walked,
/// so a link loop cannot recurse forever.
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        out.push(path.to_owned());
        return Ok(());
    }
    if !meta.is_dir() {
        bail!("not a file or directory");
    }
    walk(path, out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        if entry.file_name().to_str().is_some_and(|n| n.starts_with('.')) {
            continue;
        }
        entries.push((entry.path(), entry.file_type()?));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in entries {
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() || (kind.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()))
        {
            out.push(path);
        }
    }
    Ok(())
}

enum Input {
    Bytes(Vec<u8>),
    TooLarge { sha256: String, bytes: u64 },
}

/// Reads a file up to `cap` bytes; a larger file is hashed by streaming instead.
fn read_capped(path: &Path, cap: usize) -> Result<Input> {
    let mut f = File::open(path)?;
    let mut raw = Vec::new();
    (&mut f).take(cap as u64 + 1).read_to_end(&mut raw)?;
    if raw.len() <= cap {
        return Ok(Input::Bytes(raw));
    }
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(&raw);
    let mut bytes = raw.len() as u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
    }
    let digest = h.finalize();
    let sha256 = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Input::TooLarge { sha256, bytes })
}
