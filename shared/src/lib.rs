//! stsguard watches the TLS of a domain's inbound mail and guards its MTA-STS
//! deployment.
//!
//! This crate is the pure core plus thin edges:
//!
//! * [`report`]: the RFC 8460 model, a tolerant parser and the normalized schema
//!   `stsguard/report/v1`;
//! * [`payload`]: gzip / zip / JSON payload decoding under size caps;
//! * [`mail`]: finding report payloads in a raw message;
//! * [`ingest`]: the pipeline from raw input to normalized reports and rejection
//!   records, with their storage keys;
//! * [`store`]: the [`store::ObjectStore`] trait and its local-directory and
//!   in-memory implementations;
//! * [`limits`]: every cap on outside input;
//! * [`names`]: DNS names, normalised and checked one way everywhere;
//! * [`text`]: untrusted text made inert for terminals, logs, HTML and headers;
//! * [`diag`]: grammar findings (rule ID, severity, message) (feature `lint`);
//! * [`records`]: strict parsers for the `_mta-sts` and `_smtp._tls` TXT records;
//! * [`policy`]: the strict `mta-sts.txt` parser and the `mx` pattern matcher;
//! * [`lint`]: the rule catalogue, one domain's or a plan's deployment against
//!   it, the configuration file and the output formats;
//! * [`plan`]: the planned DNS records and policy files in `terraform show -json` output;
//! * [`live`]: DNS, HTTPS and SMTP probes and their judges (feature `live`);
//! * [`digest`]: one day of reports aggregated per domain, compared with the days
//!   before, explained, rendered (text, HTML with charts, JSON) and mailed;
//! * [`mailer`]: the [`mailer::Mailer`] trait (SES with the `ses` feature).
//!
//! Features name capabilities: `s3` (the S3 store), `ses` (the SES mailer),
//! `lint` (grammars, plan reader, rules) and `live` (probes). The ingest Lambda
//! uses `s3` alone.
//!
//! Nothing in `report`, `payload`, `mail` or the pure half of `ingest` touches
//! the clock, the network or the filesystem: time and storage come in as
//! arguments and traits.

pub mod alerts;
#[cfg(feature = "lint")]
pub mod dane;
#[cfg(feature = "lint")]
pub mod diag;
pub mod digest;
pub mod envconf;
pub mod ingest;
pub mod keys;
pub mod limits;
#[cfg(feature = "lint")]
pub mod lint;
#[cfg(feature = "live")]
pub mod live;
pub mod mail;
pub mod mailer;
pub mod names;
pub mod payload;
#[cfg(feature = "lint")]
pub mod plan;
#[cfg(feature = "lint")]
pub mod policy;
pub mod receive;
#[cfg(feature = "lint")]
pub mod records;
pub mod report;
pub mod store;
pub mod text;

pub use limits::Limits;

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// SHA-256 of `bytes` as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}
