//! Live checks: what DNS and the policy host serve today.
//!
//! Two small traits keep the network at the edge:
//!
//! * [`Resolver`] answers the TXT, MX and address queries the checks need, with
//!   a typed [`DnsError`] that tells NXDOMAIN, NODATA, a dangling CNAME and a
//!   failed lookup (SERVFAIL, refused, timeout) apart. [`HickoryResolver`] is the real one:
//!   the system's resolvers, or every query to one server over UDP and TCP.
//! * [`PolicyFetcher`] fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt`
//!   as a sender does: redirects are not followed, the certificate must be valid
//!   for `mta-sts.<domain>`, and the body is read chunk by chunk up to a cap.
//!   [`ReqwestFetcher`] is the real one.
//! * [`SmtpProbe`] connects to an MX host as a sending MTA does: banner, `EHLO`,
//!   `STARTTLS`, a TLS handshake with SNI = the MX host name and the certificate
//!   checked for it, `QUIT`; then the same again without SNI, to see whether
//!   the server requires it. [`TokioSmtpProbe`] is the real one.
//!
//! Which server, which trust anchors and which address the policy host has come
//! in by configuration only ([`HickoryResolver::at`], [`FetcherConfig`]): that is
//! how tests and air-gapped users point the probes at their own DNS and CA.
//!
//! [`gather`] asks all of them about one domain at once and keeps the answers
//! in a [`gather::LiveDomain`]. [`findings`] turns probe results into findings
//! of the NET rule family, [`assess`] judges a whole [`gather::LiveDomain`]
//! (`stsguard check`), and [`compare`] sets a Terraform plan against it
//! (`stsguard lint --live`); all three are pure.

// The network edges (`hickory`, `reqwest_fetch`, `smtp`, `gather`) measure
// time and talk to the network, and opt out of the pure-core lint each at
// their top; `assess`, `compare`, `cert` and `findings` stay under it.

pub mod assess;
pub mod cert;
pub mod compare;
pub mod findings;
pub mod gather;
mod hickory;
mod reqwest_fetch;
mod smtp;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use cert::CertFacts;
pub use hickory::HickoryResolver;
pub use reqwest_fetch::{FetcherConfig, ReqwestFetcher};
pub use smtp::{SmtpConfig, TokioSmtpProbe};

/// At most this many records of one answer are kept (TXT, MX or addresses);
/// the rest are dropped and [`TxtAnswer::capped`] (or its kin) is set.
pub const MAX_ANSWER_RECORDS: usize = 64;
/// At most this many bytes of TXT data (all character-strings of all records)
/// are kept per name.
pub const MAX_TXT_BYTES: usize = 16 * 1024;
/// At most this many CNAME hops are reported.
pub const MAX_CNAME_CHAIN: usize = 16;
/// The largest policy body a sender reads (RFC 8461 §3.3): 64 KiB. The fetcher
/// keeps one byte more, to tell a body of exactly the cap from a longer one.
pub const MAX_POLICY_BODY: usize = crate::policy::MAX_POLICY_BYTES;

/// A TXT answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxtAnswer {
    /// The TXT records, each as its character-strings (not joined).
    pub records: Vec<Vec<Vec<u8>>>,
    /// The smallest TTL of the TXT records, when there are any.
    pub ttl: Option<u32>,
    /// The CNAME targets followed from the queried name, in order, without the
    /// trailing dot.
    pub cname_chain: Vec<String>,
    /// Whether the resolver said the answer is DNSSEC-validated (the AD bit).
    pub authenticated: bool,
    /// Whether records or bytes beyond the caps were dropped.
    pub capped: bool,
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MxRecord {
    /// The preference (lower is preferred).
    pub preference: u16,
    /// The exchange host, lower-case, without the trailing dot; empty for the
    /// root (a null MX).
    pub exchange: String,
}

/// An MX answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MxAnswer {
    /// The MX records, sorted by preference, then exchange.
    pub records: Vec<MxRecord>,
    /// The smallest TTL of the MX records, when there are any.
    pub ttl: Option<u32>,
    /// Whether the resolver said the answer is DNSSEC-validated (the AD bit).
    pub authenticated: bool,
}

impl MxAnswer {
    /// A null MX (RFC 7505): exactly one record, whose exchange is the root.
    pub fn is_null(&self) -> bool {
        matches!(self.records.as_slice(), [only] if only.exchange.is_empty())
    }

    /// The MX set as the offline rules take it.
    pub fn to_mx_set(&self) -> crate::lint::MxSet {
        if self.records.is_empty() {
            crate::lint::MxSet::NoMx
        } else if self.is_null() {
            crate::lint::MxSet::Null
        } else {
            crate::lint::MxSet::Hosts(self.records.iter().map(|r| r.exchange.clone()).collect())
        }
    }
}

/// The A and AAAA addresses of a host.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddrAnswer {
    /// The addresses, IPv4 first, in answer order.
    pub addresses: Vec<IpAddr>,
    /// The smallest TTL of the address records, when there are any.
    pub ttl: Option<u32>,
    /// The CNAME targets followed from the queried name, in order.
    pub cname_chain: Vec<String>,
}

/// Why a DNS query gave no records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// NXDOMAIN: the name does not exist.
    #[error("{name}: no such name (NXDOMAIN)")]
    NxDomain {
        /// The queried name.
        name: String,
    },
    /// NODATA: the name exists but has no records of the type.
    #[error("{name}: no {rtype} records (NODATA)")]
    NoData {
        /// The queried name.
        name: String,
        /// The record type.
        rtype: &'static str,
    },
    /// The name is a CNAME (or a chain of them) whose last target does not
    /// exist or has no records of the type: a sender following it finds
    /// nothing, as for NXDOMAIN or NODATA.
    #[error("{name}: CNAME to {target}, which does not resolve")]
    DanglingCname {
        /// The queried name.
        name: String,
        /// The last CNAME target, lower-case, without the trailing dot.
        target: String,
    },
    /// The server answered with an error code (SERVFAIL, REFUSED, ...): the
    /// lookup failed, nothing is known about the name.
    #[error("{name}: lookup failed ({rcode})")]
    ServFail {
        /// The queried name.
        name: String,
        /// The response code, e.g. `SERVFAIL`.
        rcode: String,
    },
    /// No answer within the timeout.
    #[error("{name}: lookup timed out")]
    Timeout {
        /// The queried name.
        name: String,
    },
    /// Any other failure: no reachable server, a malformed answer, a bad name.
    #[error("{name}: lookup failed: {message}")]
    Other {
        /// The queried name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

impl DnsError {
    /// Whether the lookup failed (SERVFAIL, timeout, other) rather than saying
    /// that there is nothing (NXDOMAIN, NODATA, a dangling CNAME).
    pub fn is_failure(&self) -> bool {
        !matches!(
            self,
            DnsError::NxDomain { .. } | DnsError::NoData { .. } | DnsError::DanglingCname { .. }
        )
    }
}

/// The DNS queries the live checks need.
pub trait Resolver: Send + Sync {
    /// The TXT records at `name`.
    fn txt(&self, name: &str) -> impl Future<Output = Result<TxtAnswer, DnsError>> + Send;
    /// The MX records of `domain`.
    fn mx(&self, domain: &str) -> impl Future<Output = Result<MxAnswer, DnsError>> + Send;
    /// The A and AAAA addresses of `host`; NODATA only when it has neither.
    fn addresses(&self, host: &str) -> impl Future<Output = Result<AddrAnswer, DnsError>> + Send;
}

/// What the policy host answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPolicy {
    /// The URL fetched.
    pub url: String,
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, when present and readable.
    pub content_type: Option<String>,
    /// The `Location` header, when present and readable (redirects are returned,
    /// not followed).
    pub location: Option<String>,
    /// The `Cache-Control` header, when present and readable: several header
    /// lines are joined with `, `, and a value over 1 KiB is cut after its
    /// last whole directive.
    pub cache_control: Option<String>,
    /// The body: at most [`MAX_POLICY_BODY`] + 1 bytes.
    pub body: Vec<u8>,
    /// Whether the body is longer than [`MAX_POLICY_BODY`] (then only
    /// `MAX_POLICY_BODY + 1` bytes were read and the rest was not).
    pub truncated: bool,
    /// From sending the request to the end of the body (or the cap).
    pub elapsed: Duration,
    /// The negotiated TLS version (`TLS 1.3`), when known.
    pub tls_version: Option<String>,
    /// What the policy host's certificate says, when it parsed.
    pub certificate: Option<CertFacts>,
}

/// Why the policy could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The host name did not resolve or no TCP connection could be made.
    #[error("{url}: cannot connect: {message}")]
    Connect {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The certificate is not valid for the host, untrusted or expired.
    #[error("{url}: certificate rejected: {message}")]
    Certificate {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The TLS handshake failed for another reason (alert, protocol version).
    #[error("{url}: TLS handshake failed: {message}")]
    Tls {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// No complete answer within the timeout.
    #[error("{url}: timed out after {seconds} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        seconds: u64,
    },
    /// The HTTP exchange failed after connecting (malformed response, reset).
    #[error("{url}: HTTP failure: {message}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The fetcher could not be built (unreadable CA file, bad domain).
    #[error("fetcher configuration: {0}")]
    Config(String),
}

/// Fetches a domain's MTA-STS policy.
pub trait PolicyFetcher: Send + Sync {
    /// GET `https://mta-sts.<domain>/.well-known/mta-sts.txt`.
    fn fetch(&self, domain: &str) -> impl Future<Output = Result<FetchedPolicy, FetchError>> + Send;
}

/// Posts to a TLSRPT report endpoint (an `https:` rua destination).
pub trait ReportEndpoint: Send + Sync {
    /// POST an empty body with `Content-Type: application/tlsrpt+gzip` to
    /// `url` and return the status. An empty body cannot be mistaken for a
    /// report; an endpoint that takes reports answers it with a 2xx or a 4xx
    /// that judges the body (400, 411, 413, 415, 422), not 404, 405 or a 5xx.
    fn post_empty(&self, url: &str) -> impl Future<Output = Result<u16, FetchError>> + Send;
}

/// The URL of a domain's policy.
pub fn policy_url(domain: &str) -> String {
    format!(
        "https://mta-sts.{}/.well-known/mta-sts.txt",
        crate::names::normalize(domain)
    )
}

/// At most this many bytes per SMTP reply line, CRLF included.
pub const MAX_SMTP_LINE: usize = 1000;
/// At most this many lines per SMTP reply.
pub const MAX_SMTP_LINES: usize = 100;

/// What the MX host's certificate check said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertVerdict {
    /// Valid for the MX host name, trusted and current.
    Valid,
    /// Not valid for the MX host name (no matching SAN DNS name; a CN alone
    /// does not count).
    NameMismatch,
    /// Does not chain to a trusted root (self-signed, private CA).
    Untrusted,
    /// Expired.
    Expired,
    /// Rejected for another reason (not yet valid, bad signature, ...).
    Other(String),
}

/// What an MX host answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReport {
    /// The text of the 220 greeting, one line per reply line.
    pub banner: String,
    /// Whether the EHLO reply listed `STARTTLS`.
    pub starttls_offered: bool,
    /// The negotiated TLS version (`TLS 1.2`, `TLS 1.3`) after a successful
    /// handshake.
    pub tls_version: Option<String>,
    /// The certificate check, when a handshake reached it: `None` without
    /// STARTTLS or when the handshake failed otherwise (see `tls_error`).
    pub certificate: Option<CertVerdict>,
    /// Why the upgrade failed when not for the certificate: STARTTLS refused,
    /// no common TLS version ([`TLS_BELOW_1_2`]), an alert.
    pub tls_error: Option<String>,
    /// The same dialogue on a second connection whose TLS handshake sends no
    /// SNI, the certificate still checked for the MX host name (RFC 8461 §4:
    /// servers must not require SNI). `None` when it was not tried (no
    /// STARTTLS, STARTTLS refused, or the handshake with SNI failed for
    /// another reason than the certificate) or reached no verdict (the second
    /// connection failed before its handshake, or the probe's timeout ran
    /// out).
    pub without_sni: Option<NoSniOutcome>,
    /// What the certificate sent with SNI says, after a successful handshake.
    pub certificate_facts: Option<CertFacts>,
    /// The certificates the server sent with SNI (DER, leaf first, at most
    /// 10), whether the web PKI accepted them or not: what a DANE sender
    /// matches its TLSA records against. Empty when no handshake got that far.
    pub chain: Vec<Vec<u8>>,
    /// From connecting to the end of the probe (both connections).
    pub elapsed: Duration,
}

/// What the TLS handshake without SNI gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoSniOutcome {
    /// The handshake reached the certificate check: the server sent this
    /// (fallback) certificate, judged for the MX host name.
    Accepted {
        /// The check of the certificate sent without SNI.
        certificate: CertVerdict,
    },
    /// The handshake failed before a certificate was judged (an alert, a
    /// closed connection): why.
    Refused(String),
}

/// The [`SmtpReport::tls_error`] of an MX host that answers the ClientHello
/// with a `protocol_version` alert or a version below TLS 1.2.
pub const TLS_BELOW_1_2: &str = "no common TLS version (the server offers only TLS below 1.2)";

/// Why an MX host could not be probed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmtpError {
    /// No TCP connection could be made (or the host name did not resolve).
    #[error("{host}: cannot connect: {message}")]
    Connect {
        /// The MX host.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// The probe did not finish within the timeout.
    #[error("{host}: timed out after {seconds} s")]
    Timeout {
        /// The MX host.
        host: String,
        /// The timeout.
        seconds: u64,
    },
    /// The server broke the SMTP dialogue (no 220 greeting, a malformed or
    /// oversize reply, a closed connection).
    #[error("{host}: SMTP protocol failure: {message}")]
    Protocol {
        /// The MX host.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// The probe could not be set up (unreadable CA file, bad host name).
    #[error("SMTP probe configuration: {0}")]
    Config(String),
}

/// Connects to MX hosts and checks their STARTTLS.
pub trait SmtpProbe: Send + Sync {
    /// Probe `mx_host` at `addr`, or at the host name and the configured port
    /// when `addr` is `None`. SNI and the certificate check use `mx_host`.
    fn probe(
        &self,
        mx_host: &str,
        addr: Option<SocketAddr>,
    ) -> impl Future<Output = Result<SmtpReport, SmtpError>> + Send;
}
