//! The digest pipeline over an object store and a mailer: list the day's
//! reports (all pages), fetch them with bounded concurrency, read the previous
//! days' stored digests, aggregate, render, store `digests/day=D.json`,
//! `.html` and `.eml`, and, when asked, send the mail once.
//!
//! Only listed keys are read, so a role without list rights beyond its own
//! prefixes never asks for a missing object.
//!
//! "Once" rests on a sent marker, `digests/day=D.sent`, written after a
//! successful send and checked before sending: a retried invocation (after a
//! later step failed, or a redelivered schedule event) does not send again.
//! The one gap left is a failure between the send and the marker write, which
//! would send a second copy on retry rather than none.

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::stream::{self, StreamExt, TryStreamExt};

use super::chart;
use super::message::{self, InlineImage, Mail, MessageError};
use super::render;
use super::{Aggregator, Digest, DigestConfig, DigestKeys, HISTORY_DAYS};
use crate::keys::Layout;
use crate::mailer::{Mailer, SendError};
use crate::store::{ObjectStore, PutOutcome, StoreError};

/// Stored reports larger than this are not read (ingest writes far smaller
/// ones); they count as unreadable.
pub const MAX_STORED_REPORT_BYTES: usize = 32 << 20;

/// Reports read per batch; a batch is read `concurrency` at a time, then folded.
const READ_BATCH: usize = 512;

/// Everything a run needs besides the store, the mailer and the clock.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// How the day is judged.
    pub digest: DigestConfig,
    /// Where the reports are.
    pub layout: Layout,
    /// Where digests go.
    pub keys: DigestKeys,
    /// The sender address of the mail.
    pub from: String,
    /// The recipients of the mail.
    pub to: Vec<String>,
    /// Reports fetched at once. Default 32.
    pub concurrency: usize,
    /// Open alerts to list in the digest (set for each run by the caller,
    /// after the alert evaluation); empty leaves the section out.
    pub open_alerts: Vec<super::OpenAlert>,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            digest: DigestConfig::default(),
            layout: Layout::default(),
            keys: DigestKeys::default(),
            from: "stsguard@localhost.localdomain".into(),
            to: vec!["postmaster@localhost.localdomain".into()],
            concurrency: 32,
            open_alerts: Vec::new(),
        }
    }
}

/// Whether the mail went out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sending {
    /// Not asked to send: the `.eml` was stored only.
    NotRequested,
    /// Sent now; the backend's message id.
    Sent(String),
    /// The sent marker says an earlier run sent it already.
    AlreadySent,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The day's digest.
    pub digest: Digest,
    /// Keys listed under the day's report prefix.
    pub listed: usize,
    /// Earlier digests found for the trend.
    pub history_days: usize,
    /// Keys written (digest JSON, HTML, `.eml`, sent marker).
    pub written: Vec<String>,
    /// The digest as text (what the mail's text part says).
    pub text: String,
    /// The digest as a self-contained HTML page (charts as `data:` URIs).
    pub html: String,
    /// The raw mail.
    pub eml: Vec<u8>,
    /// Whether it was sent.
    pub sending: Sending,
}

/// A run failed. Storage and sending failures are transient (retry); a bad
/// address is the operator's to fix.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The mail could not be built (a configured address is unusable).
    #[error(transparent)]
    Message(#[from] MessageError),
    /// Sending failed.
    #[error(transparent)]
    Mail(#[from] SendError),
}

impl RunError {
    /// Whether a retry may succeed.
    pub fn is_transient(&self) -> bool {
        !matches!(self, RunError::Message(_))
    }
}

/// Aggregates the reports of `day` from a store, with the previous days'
/// digests (failing only on storage errors; unreadable objects are counted).
pub async fn aggregate<S: ObjectStore>(
    store: &S,
    config: &RunConfig,
    day: NaiveDate,
) -> Result<(Digest, usize, usize), StoreError> {
    let day_s = day.to_string();
    let keys: Vec<String> = store
        .list(&config.layout.report_day_prefix(&day_s))
        .await?
        .into_iter()
        .filter(|k| k.ends_with(".json"))
        .collect();
    let listed = keys.len();
    let mut agg = Aggregator::new(day);
    // Read in batches, folded as they come: memory stays bounded by one batch.
    for batch in keys.chunks(READ_BATCH) {
        for body in store.get_many(batch, config.concurrency).await? {
            match body {
                // Deleted between the listing and the read: nothing to count.
                None => {}
                Some(b) if b.len() > MAX_STORED_REPORT_BYTES => agg.count_unreadable(),
                Some(b) => {
                    let _ = agg.add_json(&b);
                }
            }
        }
    }

    // Listed first, then read: a role that may list only its own prefixes gets
    // "access denied" rather than "no such key" for a missing object.
    let stored: std::collections::BTreeSet<String> =
        store.list(&config.keys.prefix).await?.into_iter().collect();
    let history_keys: Vec<String> = (1..=u64::from(HISTORY_DAYS))
        .map(|back| {
            config
                .keys
                .key(&(day - chrono::Days::new(back)).to_string(), "json")
        })
        .filter(|k| stored.contains(k))
        .collect();
    let previous: Vec<Digest> = stream::iter(history_keys)
        .map(|k| async move { store.get(&k).await })
        .buffer_unordered(config.concurrency.max(1))
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .filter_map(|b| serde_json::from_slice::<Digest>(&b).ok())
        .collect();
    let history_days = previous.len();
    Ok((agg.finish(&config.digest, &previous), listed, history_days))
}

/// The rendered forms of a digest: text, the stored HTML page, and the mail.
pub fn render_all(
    digest: &Digest,
    config: &RunConfig,
    now: DateTime<Utc>,
) -> Result<(String, String, Vec<u8>), MessageError> {
    let day = NaiveDate::parse_from_str(&digest.day, "%Y-%m-%d").unwrap_or_default();
    let charts: Vec<Option<chart::Chart>> = digest
        .domains
        .iter()
        .map(|d| {
            let has_data = d.trend.history.iter().any(|p| p.success_rate.is_some());
            has_data
                .then(|| chart::draw(day, &d.trend.history).ok())
                .flatten()
        })
        .collect();
    let data_srcs: Vec<Option<String>> = charts
        .iter()
        .map(|c| c.as_ref().map(|c| message::data_uri(&c.png)))
        .collect();
    let mut images = Vec::new();
    let cid_srcs: Vec<Option<String>> = charts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            c.as_ref().map(|c| {
                let cid = format!("chart-{}.{}@stsguard", i + 1, digest.day);
                images.push(InlineImage {
                    content_id: cid.clone(),
                    file_name: format!("tls-success-{}.png", i + 1),
                    png: c.png.clone(),
                });
                format!("cid:{cid}")
            })
        })
        .collect();
    let text = render::text(digest);
    let page = render::html_page(digest, &data_srcs);
    let mail_html = render::html_page(digest, &cid_srcs);
    let subject = render::subject(digest);
    let eml = message::build(&Mail {
        from: &config.from,
        to: &config.to,
        subject: &subject,
        date: now,
        text: &text,
        html: &mail_html,
        images: &images,
    })?;
    Ok((text, page, eml))
}

/// The whole run for `day`: aggregate, store the digest (JSON, HTML, `.eml`,
/// replacing an earlier run's), and with `send` deliver the mail unless the
/// sent marker says it went out already.
pub async fn run<S: ObjectStore, M: Mailer>(
    store: &S,
    mailer: &M,
    config: &RunConfig,
    day: NaiveDate,
    now: DateTime<Utc>,
    send: bool,
) -> Result<RunOutcome, RunError> {
    let (mut digest, listed, history_days) = aggregate(store, config, day).await?;
    digest.open_alerts = config.open_alerts.clone();
    let (text, html, eml) = render_all(&digest, config, now)?;
    let day_s = &digest.day;
    let mut written = Vec::new();
    for (ext, body) in [
        ("json", render::json(&digest).into_bytes()),
        ("html", html.clone().into_bytes()),
        ("eml", eml.clone()),
    ] {
        let key = config.keys.key(day_s, ext);
        store.put(&key, body).await?;
        written.push(key);
    }
    let sending = if send {
        let marker = config.keys.key(day_s, "sent");
        if store.list(&marker).await?.contains(&marker) {
            Sending::AlreadySent
        } else {
            let id = mailer.send_raw(&config.from, &config.to, eml.clone()).await?;
            let body = serde_json::json!({
                "day": day_s,
                "message_id": id,
                "sent_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "to": config.to,
            });
            if store
                .put_if_absent(&marker, body.to_string().into_bytes())
                .await?
                == PutOutcome::Created
            {
                written.push(marker);
            }
            Sending::Sent(id)
        }
    } else {
        Sending::NotRequested
    };
    Ok(RunOutcome {
        digest,
        listed,
        history_days,
        written,
        text,
        html,
        eml,
        sending,
    })
}
