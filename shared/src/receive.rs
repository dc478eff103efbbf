//! Reports over HTTPS (RFC 8460 §3, the `https:` destination): one POST in,
//! one answer out. The body is kept in the store before anything else, then
//! goes through the same [`ingest::prepare`] path as mail, with
//! `source.channel = "https"` and the client's address and User-Agent kept.
//!
//! Answers: `201` once a report is stored, `200` for an exact duplicate (or a
//! redelivery kept aside as a conflict), `4xx` with a short plain reason for
//! an unusable body (which is still recorded under `rejected/` with that
//! reason), `503` only for a storage failure, so that the sender retries;
//! other methods get `405`, and a wrong secret path `404`. The edge (the
//! `stsguard receive` server, the Lambda function URL) reads the request with
//! the body capped and calls [`handle`].

use chrono::{DateTime, Utc};

use crate::ingest::{self, IngestConfig, InputContext, InputKind, RejectReason};
use crate::store::{ErrorChain, ObjectStore};

/// One request, as the edge read it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path (without the query).
    pub path: &'a str,
    /// The `Content-Type` header, when any.
    pub content_type: Option<&'a str>,
    /// The body, at most the cap plus one byte ([`ReceiveConfig::max_body_bytes`]).
    pub body: &'a [u8],
    /// The body's whole size when the edge stopped reading at the cap (from
    /// `Content-Length` or what it counted); `None` when `body` is whole.
    pub truncated_size: Option<u64>,
    /// The client's address.
    pub client: Option<&'a str>,
    /// The `User-Agent` header, when any.
    pub user_agent: Option<&'a str>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// A short plain-text reason (no request text in it).
    pub body: String,
    /// The `Allow` header, for `405`.
    pub allow: Option<&'static str>,
    /// The `Retry-After` header in seconds, for `503`.
    pub retry_after: Option<u32>,
    /// One line for the log: what came and what was done, every request
    /// value in it escaped (and the secret path segment left out).
    pub log: String,
}

/// The largest body accepted by default: 10 MiB, the cap RFC 8460 §5.3 says
/// receivers commonly apply (a day's report of a large sender, gzipped, is a
/// small fraction of it).
pub const MAX_BODY_BYTES: usize = 10 << 20;

/// How the receiver judges requests.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiveConfig {
    /// The ingest settings (caps, layout, allowed domains). DKIM cannot be
    /// required over HTTPS; [`handle`] ignores `require_dkim`.
    pub ingest: IngestConfig,
    /// When set, only paths whose first segment is this secret are accepted
    /// (`rua=https://host/SECRET/v1`), compared in constant time.
    pub token: Option<String>,
    /// The largest body accepted ([`MAX_BODY_BYTES`] by default); a larger
    /// one is answered `413` and recorded, not kept.
    pub max_body_bytes: usize,
}

impl Default for ReceiveConfig {
    fn default() -> Self {
        ReceiveConfig {
            ingest: IngestConfig::default(),
            token: None,
            max_body_bytes: MAX_BODY_BYTES,
        }
    }
}

/// Where the raw body of a request is kept: `raw/https/day=DAY/SHA256.body`.
pub fn raw_key(day: &str, sha256: &str) -> String {
    format!("raw/https/day={day}/{sha256}.body")
}

/// The shortest secret path segment accepted.
pub const MIN_TOKEN_CHARS: usize = 16;

/// Whether `token` can be the secret path segment: 16 to 128 of the
/// characters a URL path keeps as they are (`A-Z a-z 0-9 - . _ ~`), so that
/// the `rua` URI a domain publishes holds it unchanged, and not only dots.
/// Says why not otherwise.
pub fn check_token(token: &str) -> Result<(), &'static str> {
    if token.len() < MIN_TOKEN_CHARS || token.len() > 128 {
        return Err("the secret path segment must be 16 to 128 characters long");
    }
    if token.bytes().all(|b| b == b'.') {
        return Err("the secret path segment cannot be only dots");
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return Err("the secret path segment may hold only A-Z, a-z, 0-9, '-', '.', '_' and '~'");
    }
    Ok(())
}

/// Whether `path`'s first segment is `token` (constant time in the token's
/// content; the lengths may differ in time).
pub fn token_matches(path: &str, token: &str) -> bool {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let (a, b) = (first.as_bytes(), token.as_bytes());
    if a.len() != b.len() || b.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The media types a sender may use (RFC 8460 §5.3 and what is seen):
/// anything else is still read (the body is sniffed), and said in the log.
fn expected_type(content_type: Option<&str>) -> bool {
    let Some(ct) = content_type else { return true };
    let base = ct
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    matches!(
        base.as_str(),
        "application/tlsrpt+gzip"
            | "application/tlsrpt+json"
            | "application/gzip"
            | "application/x-gzip"
            | "application/json"
            | "application/octet-stream"
            | ""
    )
}

/// Handles one request: keeps the body, ingests it and says how it went.
pub async fn handle<S: ObjectStore>(
    store: &S,
    req: &Request<'_>,
    config: &ReceiveConfig,
    now: DateTime<Utc>,
) -> Response {
    let who = format!(
        "{} {} from {} ({})",
        crate::text::escaped(req.method, 16),
        shown_path(req.path, config.token.is_some()),
        crate::text::escaped(req.client.unwrap_or("?"), 64),
        crate::text::escaped(req.user_agent.unwrap_or("no User-Agent"), 120),
    );
    let answer = |status: u16, body: &str| Response {
        status,
        body: format!("{body}\n"),
        allow: None,
        retry_after: None,
        log: format!("{who}: {status} {body}"),
    };
    if req.method != "POST" {
        return Response {
            allow: Some("POST"),
            ..answer(405, "only POST is accepted (RFC 8460 reports)")
        };
    }
    if let Some(token) = &config.token {
        if !token_matches(req.path, token) {
            return answer(404, "not found");
        }
    }
    let mut ingest_config = config.ingest.clone();
    ingest_config.require_dkim = false;
    // The input is the body: its cap is the body's (a rejection names it).
    ingest_config.limits.max_mail_bytes = config.max_body_bytes;
    let day = now.format("%Y-%m-%d").to_string();
    let cap = config.max_body_bytes;
    let mut ctx = InputContext {
        channel: "https".into(),
        input: Some(format!("POST {}", shown_path(req.path, config.token.is_some()))),
        client: req.client.map(|c| crate::text::escaped(c, 64)),
        user_agent: req.user_agent.map(|u| crate::text::escaped(u, 200)),
        ..InputContext::default()
    };

    if req.truncated_size.is_some() || req.body.len() > cap {
        let bytes = req.truncated_size.unwrap_or(req.body.len() as u64);
        // A whole body (the Lambda's event holds it) is named by its hash, so
        // that a redelivery is recorded once. A body not read whole has no
        // known hash: the record is named by the hash of the request's
        // description (size, client and time) instead.
        let sha = match req.truncated_size {
            None => crate::sha256_hex(req.body),
            Some(_) => crate::sha256_hex(
                format!(
                    "https body over the cap: {bytes} bytes from {} at {}",
                    req.client.unwrap_or("?"),
                    now.to_rfc3339()
                )
                .as_bytes(),
            ),
        };
        let prepared = ingest::prepare_oversize(&sha, bytes, &ctx, &ingest_config, now);
        return match ingest::store_prepared(store, prepared).await {
            Ok(_) => answer(413, &format!("the report is larger than {cap} bytes")),
            Err(e) => unavailable(&who, &e),
        };
    }

    let sha = crate::sha256_hex(req.body);
    let key = raw_key(&day, &sha);
    if let Err(e) = store.put_if_absent(&key, req.body.to_vec()).await {
        return unavailable(&who, &e);
    }
    ctx.raw_key = Some(key);
    let prepared = ingest::prepare(req.body, InputKind::Payload, &ctx, &ingest_config, now);
    let outcome = match ingest::store_prepared(store, prepared).await {
        Ok(o) => o,
        Err(e) => return unavailable(&who, &e),
    };
    let typed = if expected_type(req.content_type) {
        String::new()
    } else {
        format!(
            " (unexpected Content-Type {})",
            crate::text::escaped(req.content_type.unwrap_or_default(), 80)
        )
    };
    let mut r = if !outcome.written.is_empty() {
        let n = outcome.written.len();
        answer(
            201,
            &format!("stored {n} report{}", if n == 1 { "" } else { "s" }),
        )
    } else if !outcome.duplicates.is_empty() {
        answer(200, "already stored")
    } else if !outcome.conflicts.is_empty() {
        answer(
            200,
            "a report with this report-id was stored first; this one is kept aside",
        )
    } else {
        match outcome.rejected {
            Some((reason, _, _)) => {
                let status = match reason {
                    RejectReason::TooLarge => 413,
                    RejectReason::UnexpectedDomain => 403,
                    _ => 400,
                };
                answer(status, &format!("not a usable report: {}", reason.as_str()))
            }
            None => answer(400, "not a usable report"),
        }
    };
    r.log.push_str(&typed);
    r
}

/// `503` for a storage failure: the sender retries later.
fn unavailable(who: &str, e: &crate::store::StoreError) -> Response {
    Response {
        status: 503,
        body: "storage unavailable; retry later\n".into(),
        allow: None,
        retry_after: Some(60),
        log: format!("{who}: 503 storage failed: {}", ErrorChain(e)),
    }
}

/// The path for logs and records: escaped, and without the secret segment.
fn shown_path(path: &str, secret: bool) -> String {
    let path = if secret {
        let rest = path
            .trim_start_matches('/')
            .split_once('/')
            .map_or("", |(_, r)| r);
        format!("/<secret>/{rest}")
    } else {
        path.to_owned()
    };
    crate::text::escaped(&path, 200)
}
