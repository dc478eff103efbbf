//! What DNS, the policy host, the MX hosts and the report destinations serve
//! for one domain today: [`gather`] asks them all, [`LiveDomain`] holds the
//! answers. Turning the answers into findings is pure ([`crate::live::assess`]).

// A network edge: it reads the wall clock once (certificate lifetimes are judged against it).
#![allow(clippy::disallowed_methods)]

use std::net::SocketAddr;

use futures_util::future::join_all;

use super::{
    AddrAnswer, DnsError, FetchError, FetchedPolicy, MxAnswer, PolicyFetcher, ReportEndpoint, Resolver,
    SmtpError, SmtpProbe, SmtpReport, TxtAnswer,
};
use crate::records::parse_tlsrpt_records;

/// At most this many MX hosts are probed per domain.
pub const MAX_MX_PROBES: usize = 16;
/// At most this many rua destinations are checked per domain.
pub const MAX_RUA_CHECKS: usize = 8;

/// How [`gather`] connects.
#[derive(Debug, Clone)]
pub struct GatherOptions {
    /// Connect to the policy host, the MX hosts and https report endpoints at
    /// the addresses the given resolver returns (port 443, `smtp_port`), not at
    /// the ones the HTTP and SMTP clients would look up themselves. Set when the
    /// resolver is not the system's (`--resolver`).
    pub pin_addresses: bool,
    /// The MX hosts' SMTP port (25).
    pub smtp_port: u16,
}

impl Default for GatherOptions {
    fn default() -> Self {
        GatherOptions {
            pin_addresses: false,
            smtp_port: 25,
        }
    }
}

/// One MX host and what its probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxProbe {
    /// The MX host.
    pub host: String,
    /// The probe's result.
    pub result: Result<SmtpReport, SmtpError>,
}

/// One report destination of the TLSRPT record and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuaCheck {
    /// The URI as published.
    pub uri: String,
    /// What was found.
    pub outcome: RuaOutcome,
}

/// What a report destination's check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuaOutcome {
    /// A `mailto:` destination: the MX records of its domain and, when it has
    /// none, its addresses (the implicit MX).
    Mailto {
        /// The domain of the address.
        domain: String,
        /// Its MX lookup.
        mx: Result<MxAnswer, DnsError>,
        /// Its address lookup, made only when it has no MX records.
        implicit: Option<Result<AddrAnswer, DnsError>>,
    },
    /// An `https:` destination: the status of an empty POST.
    Https(Result<u16, FetchError>),
    /// A URI that is not checked (malformed; the record rules report it).
    Unchecked,
}

/// Everything learnt about one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveDomain {
    /// The policy domain, lower-case, without the trailing dot.
    pub domain: String,
    /// The TXT lookup at `_mta-sts.<domain>`.
    pub sts: Result<TxtAnswer, DnsError>,
    /// The TXT lookup at `_smtp._tls.<domain>`.
    pub tlsrpt: Result<TxtAnswer, DnsError>,
    /// The MX lookup of the domain.
    pub mx: Result<MxAnswer, DnsError>,
    /// The address lookup of `mta-sts.<domain>`.
    pub policy_host: Result<AddrAnswer, DnsError>,
    /// The policy fetch; `None` when the policy host did not resolve.
    pub policy: Option<Result<FetchedPolicy, FetchError>>,
    /// The MX probes; `None` when SMTP was not probed (`--no-smtp`).
    pub mx_probes: Option<Vec<MxProbe>>,
    /// The report destinations checked.
    pub rua: Vec<RuaCheck>,
    /// When the check started, Unix seconds (certificate lifetimes are judged
    /// against it).
    pub checked_at: i64,
}

impl LiveDomain {
    /// The served policy body: a 200 answer of at most 64 KiB.
    pub fn policy_body(&self) -> Option<&[u8]> {
        match &self.policy {
            Some(Ok(p)) if p.status == 200 && !p.truncated => Some(&p.body),
            _ => None,
        }
    }
}

/// Asks DNS for the domain's records, then, at the same time, fetches the
/// policy, probes every MX host (when `smtp` is given) and checks the report
/// destinations. `fetcher` builds an HTTPS client that connects to the given
/// host at the given addresses (an empty list: where the system resolves it).
pub async fn gather<R, F, S>(
    domain: &str,
    resolver: &R,
    fetcher: impl Fn(&[(String, SocketAddr)]) -> Result<F, FetchError>,
    smtp: Option<&S>,
    options: &GatherOptions,
) -> LiveDomain
where
    R: Resolver,
    F: PolicyFetcher + ReportEndpoint,
    S: SmtpProbe,
{
    let checked_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let domain = crate::names::normalize(domain);
    let host = format!("mta-sts.{domain}");
    let (sts_name, tlsrpt_name) = (format!("_mta-sts.{domain}"), format!("_smtp._tls.{domain}"));
    let (sts, tlsrpt, mx, policy_host) = tokio::join!(
        resolver.txt(&sts_name),
        resolver.txt(&tlsrpt_name),
        resolver.mx(&domain),
        resolver.addresses(&host)
    );

    let fetch = async {
        let addrs = policy_host.as_ref().ok()?;
        let pinned = pins(&host, addrs, 443, options.pin_addresses);
        Some(match fetcher(&pinned) {
            Ok(f) => f.fetch(&domain).await,
            Err(e) => Err(e),
        })
    };
    let mx_hosts: Vec<String> = match &mx {
        Ok(answer) if !answer.is_null() => answer
            .records
            .iter()
            .map(|r| r.exchange.clone())
            .take(MAX_MX_PROBES)
            .collect(),
        _ => Vec::new(),
    };
    let probes = async {
        let smtp = smtp?;
        let each = mx_hosts.iter().map(|h| async move {
            MxProbe {
                host: h.clone(),
                result: probe(resolver, smtp, h, options).await,
            }
        });
        Some(join_all(each).await)
    };
    let rua_uris: Vec<String> = match &tlsrpt {
        Ok(answer) => parse_tlsrpt_records(&answer.records)
            .record
            .map(|r| r.rua)
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let rua = join_all(
        rua_uris
            .iter()
            .take(MAX_RUA_CHECKS)
            .map(|uri| check_rua(resolver, &fetcher, uri, options)),
    );
    let (policy, mx_probes, rua) = tokio::join!(fetch, probes, rua);
    LiveDomain {
        domain,
        sts,
        tlsrpt,
        mx,
        policy_host,
        policy,
        mx_probes,
        rua,
        checked_at,
    }
}

fn pins(host: &str, addrs: &AddrAnswer, port: u16, pin: bool) -> Vec<(String, SocketAddr)> {
    if !pin {
        return Vec::new();
    }
    addrs
        .addresses
        .iter()
        .map(|ip| (host.to_owned(), SocketAddr::new(*ip, port)))
        .collect()
}

/// Probes one MX host: at the resolver's first address when pinning, else by
/// name.
async fn probe<R: Resolver, S: SmtpProbe>(
    resolver: &R,
    smtp: &S,
    host: &str,
    options: &GatherOptions,
) -> Result<SmtpReport, SmtpError> {
    if !options.pin_addresses {
        return smtp.probe(host, None).await;
    }
    match resolver.addresses(host).await {
        Ok(a) => match a.addresses.first() {
            Some(ip) => {
                smtp.probe(host, Some(SocketAddr::new(*ip, options.smtp_port)))
                    .await
            }
            None => Err(SmtpError::Connect {
                host: host.to_owned(),
                message: "no A or AAAA record".into(),
            }),
        },
        Err(e) => Err(SmtpError::Connect {
            host: host.to_owned(),
            message: e.to_string(),
        }),
    }
}

/// The domain of a `mailto:` URI (`mailto:tls@example.com?subject=x` ->
/// `example.com`), lower-case; `None` when there is none.
pub(crate) fn mailto_domain(uri: &str) -> Option<String> {
    let rest = uri
        .get(..7)
        .filter(|s| s.eq_ignore_ascii_case("mailto:"))
        .map(|_| &uri[7..])?;
    let address = rest.split(['?', ',']).next()?;
    let (_, domain) = address.rsplit_once('@')?;
    let domain = crate::names::normalize(domain);
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some(domain)
}

/// The host of an `https:` URI; `None` when it is not one.
pub(crate) fn https_host(uri: &str) -> Option<String> {
    let rest = uri
        .get(..8)
        .filter(|s| s.eq_ignore_ascii_case("https://"))
        .map(|_| &uri[8..])?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    };
    let host = crate::names::normalize(host);
    let ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    ok.then_some(host)
}

async fn check_rua<R: Resolver, F: PolicyFetcher + ReportEndpoint>(
    resolver: &R,
    fetcher: &impl Fn(&[(String, SocketAddr)]) -> Result<F, FetchError>,
    uri: &str,
    options: &GatherOptions,
) -> RuaCheck {
    let outcome = if let Some(domain) = mailto_domain(uri) {
        let mx = resolver.mx(&domain).await;
        let implicit = match &mx {
            Err(DnsError::NoData { .. }) => Some(resolver.addresses(&domain).await),
            _ => None,
        };
        RuaOutcome::Mailto { domain, mx, implicit }
    } else if let Some(host) = https_host(uri) {
        let pinned = if options.pin_addresses {
            match resolver.addresses(&host).await {
                Ok(a) => Ok(pins(&host, &a, 443, true)),
                Err(e) => Err(FetchError::Connect {
                    url: uri.to_owned(),
                    message: e.to_string(),
                }),
            }
        } else {
            Ok(Vec::new())
        };
        let status = match pinned.and_then(|p| fetcher(&p)) {
            Ok(f) => f.post_empty(uri).await,
            Err(e) => Err(e),
        };
        RuaOutcome::Https(status)
    } else {
        RuaOutcome::Unchecked
    };
    RuaCheck {
        uri: uri.to_owned(),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_domains() {
        assert_eq!(
            mailto_domain("mailto:tls@Example.COM"),
            Some("example.com".into())
        );
        assert_eq!(
            mailto_domain("MAILTO:a@b.example?subject=x"),
            Some("b.example".into())
        );
        assert_eq!(
            mailto_domain("mailto:tls@example.com."),
            Some("example.com".into())
        );
        assert_eq!(mailto_domain("mailto:no-at-sign"), None);
        assert_eq!(mailto_domain("mailto:a@exa mple.com"), None);
        assert_eq!(mailto_domain("https://example.com/"), None);
        assert_eq!(mailto_domain("mailto:"), None);
    }

    #[test]
    fn https_hosts() {
        assert_eq!(
            https_host("https://Reports.Example.com/tlsrpt"),
            Some("reports.example.com".into())
        );
        assert_eq!(https_host("https://r.example:8443/x?y"), Some("r.example".into()));
        assert_eq!(https_host("http://r.example/"), None);
        assert_eq!(https_host("https:///path"), None);
        assert_eq!(https_host("https://[::1]/"), None);
    }
}

/// How [`gather_domains`] reaches DNS, the policy hosts, the MX hosts and the
/// report endpoints.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Send every DNS query to this server instead of the system's resolvers,
    /// and connect to the hosts at the addresses it gives.
    pub resolver: Option<SocketAddr>,
    /// PEM certificates trusted beside the web PKI roots.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// Probe the MX hosts over SMTP.
    pub smtp: bool,
    /// The MX hosts' SMTP port.
    pub smtp_port: u16,
    /// Timeout of each policy fetch, MX probe and report-endpoint check; DNS
    /// lookups get at most 5 s of it.
    pub timeout: std::time::Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            resolver: None,
            extra_roots_pem: None,
            smtp: true,
            smtp_port: 25,
            timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// Why [`gather_domains`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveSetupError {
    /// The HTTPS client (the extra roots, most likely) is unusable.
    #[error("cannot set up the HTTPS client")]
    Https(#[source] FetchError),
    /// The DNS resolver cannot be set up.
    #[error("cannot set up the DNS resolver")]
    Dns(#[source] DnsError),
    /// The SMTP probe (the extra roots, most likely) is unusable.
    #[error("cannot set up the SMTP probe")]
    Smtp(#[source] super::SmtpError),
}

/// At most this many domains are checked at the same time.
pub const PARALLEL_DOMAINS: usize = 8;

/// `IP` or `IP:PORT` (port 53 when not given), `[IPv6]:PORT` or a bare IPv6
/// address; `None` when it is neither.
pub fn parse_resolver(s: &str) -> Option<SocketAddr> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some(addr);
    }
    s.trim_matches(['[', ']'])
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| SocketAddr::new(ip, 53))
}

/// Checks `domains` ([`PARALLEL_DOMAINS`] at a time) with the real resolver,
/// fetcher and probe, and returns what was learnt, in the order given. The
/// extra roots are checked before any network traffic.
///
/// # Errors
///
/// [`LiveSetupError`] when a client cannot be set up; what a domain serves,
/// failures included, is in its [`LiveDomain`].
pub async fn gather_domains(
    domains: &[String],
    config: &LiveConfig,
) -> Result<Vec<LiveDomain>, LiveSetupError> {
    use futures_util::stream::{self, StreamExt};

    use super::{FetcherConfig, HickoryResolver, ReqwestFetcher, SmtpConfig, TokioSmtpProbe};

    let timeout = config.timeout;
    let dns_timeout = timeout.min(std::time::Duration::from_secs(5));
    let fetcher = |resolve: &[(String, SocketAddr)]| {
        ReqwestFetcher::new(FetcherConfig {
            extra_roots_pem: config.extra_roots_pem.clone(),
            resolve: resolve.to_vec(),
            timeout,
        })
    };
    fetcher(&[]).map_err(LiveSetupError::Https)?;
    let resolver = match config.resolver {
        Some(addr) => HickoryResolver::at(addr, dns_timeout),
        None => HickoryResolver::system(dns_timeout),
    }
    .map_err(LiveSetupError::Dns)?;
    let smtp = if config.smtp {
        Some(
            TokioSmtpProbe::new(SmtpConfig {
                extra_roots_pem: config.extra_roots_pem.clone(),
                port: config.smtp_port,
                timeout,
                ..SmtpConfig::default()
            })
            .map_err(LiveSetupError::Smtp)?,
        )
    } else {
        None
    };
    let options = GatherOptions {
        pin_addresses: config.resolver.is_some(),
        smtp_port: config.smtp_port,
    };
    let (resolver, smtp, options, fetcher) = (&resolver, smtp.as_ref(), &options, &fetcher);
    Ok(stream::iter(domains)
        .map(|d| async move { gather(d, resolver, fetcher, smtp, options).await })
        .buffered(PARALLEL_DOMAINS)
        .collect()
        .await)
}

#[cfg(test)]
mod setup_tests {
    use super::*;

    #[test]
    fn resolver_forms() {
        assert_eq!(parse_resolver("127.0.0.1:5353"), "127.0.0.1:5353".parse().ok());
        assert_eq!(parse_resolver("192.0.2.1"), "192.0.2.1:53".parse().ok());
        assert_eq!(parse_resolver("[::1]:53"), "[::1]:53".parse().ok());
        assert_eq!(parse_resolver("::1"), "[::1]:53".parse().ok());
        assert!(parse_resolver("dns.example").is_none());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_bad_ca_file_fails_before_any_lookup() {
        let config = LiveConfig {
            extra_roots_pem: Some(
                b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n".to_vec(),
            ),
            // A resolver nobody answers at: reaching it would time out.
            resolver: parse_resolver("192.0.2.1"),
            ..LiveConfig::default()
        };
        let err = gather_domains(&["example.com".into()], &config).await.err();
        assert!(matches!(err, Some(LiveSetupError::Https(_))), "{err:?}");
    }
}
