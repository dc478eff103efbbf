//! [`PolicyFetcher`] on reqwest (rustls).

// A network edge: it measures elapsed time.
#![allow(clippy::disallowed_methods)]

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use reqwest::redirect::Policy;

use super::{policy_url, FetchError, FetchedPolicy, PolicyFetcher, ReportEndpoint, MAX_POLICY_BODY};

/// How [`ReqwestFetcher`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetcherConfig {
    /// PEM certificates to trust besides the platform's roots (a private CA,
    /// e.g. `--ca-file`); the web PKI roots stay trusted.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// Host name to address overrides, e.g. `mta-sts.example.com` to
    /// `127.0.0.1:8443`: the connection goes there, SNI and the certificate
    /// check still use the host name. A host given several times is tried at
    /// each of its addresses in order.
    pub resolve: Vec<(String, SocketAddr)>,
    /// The whole fetch (connect, handshake, headers and body) must end within
    /// this.
    pub timeout: Duration,
}

impl Default for FetcherConfig {
    fn default() -> Self {
        FetcherConfig {
            extra_roots_pem: None,
            resolve: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// A [`PolicyFetcher`] on reqwest with rustls: HTTP/1.1, no redirects, no
/// proxy, certificate checked for `mta-sts.<domain>`, body capped.
#[derive(Debug, Clone)]
pub struct ReqwestFetcher {
    client: reqwest::Client,
    timeout: Duration,
}

impl ReqwestFetcher {
    /// A fetcher with `config`. Fails when the PEM holds no usable certificate.
    pub fn new(config: FetcherConfig) -> Result<Self, FetchError> {
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .https_only(true)
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .tls_info(true)
            .user_agent(concat!("stsguard/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &config.extra_roots_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| FetchError::Config(format!("CA certificates: {e}")))?;
            if certs.is_empty() {
                return Err(FetchError::Config(
                    "CA certificates: no PEM certificate found".into(),
                ));
            }
            builder = builder.tls_certs_merge(certs);
        }
        // One override per host, with every address given for it (tried in order).
        let mut hosts: Vec<(&str, Vec<SocketAddr>)> = Vec::new();
        for (host, addr) in &config.resolve {
            match hosts.iter_mut().find(|(h, _)| h.eq_ignore_ascii_case(host)) {
                Some((_, addrs)) => addrs.push(*addr),
                None => hosts.push((host, vec![*addr])),
            }
        }
        for (host, addrs) in &hosts {
            builder = builder.resolve_to_addrs(host, addrs);
        }
        let client = builder.build().map_err(|e| FetchError::Config(chain(&e)))?;
        Ok(ReqwestFetcher {
            client,
            timeout: config.timeout,
        })
    }
}

impl PolicyFetcher for ReqwestFetcher {
    async fn fetch(&self, domain: &str) -> Result<FetchedPolicy, FetchError> {
        let url = policy_url(domain);
        let start = Instant::now();
        let mut response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| classify(&url, self.timeout, &e))?;
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(|s| s.chars().take(1024).collect::<String>())
        };
        let content_type = header(CONTENT_TYPE);
        let location = header(LOCATION);
        let cache_control = cache_control(response.headers());
        let tls = response.extensions().get::<reqwest::tls::TlsInfo>();
        let certificate = tls
            .and_then(reqwest::tls::TlsInfo::peer_certificate)
            .and_then(super::cert::cert_facts);
        let tls_version = tls.and_then(reqwest::tls::TlsInfo::version).map(|v| {
            if v == reqwest::tls::Version::TLS_1_3 {
                "TLS 1.3".to_owned()
            } else if v == reqwest::tls::Version::TLS_1_2 {
                "TLS 1.2".to_owned()
            } else {
                "TLS below 1.2".to_owned()
            }
        });
        let status = response.status().as_u16();
        // Read chunk by chunk, never more than the cap plus one byte.
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| classify(&url, self.timeout, &e))?
        {
            let room = MAX_POLICY_BODY + 1 - body.len();
            if chunk.len() >= room {
                body.extend_from_slice(&chunk[..room]);
                truncated = body.len() > MAX_POLICY_BODY;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(FetchedPolicy {
            url,
            status,
            content_type,
            location,
            cache_control,
            body,
            truncated,
            elapsed: start.elapsed(),
            tls_version,
            certificate,
        })
    }
}

impl ReportEndpoint for ReqwestFetcher {
    async fn post_empty(&self, url: &str) -> Result<u16, FetchError> {
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/tlsrpt+gzip")
            .body(Vec::new())
            .send()
            .await
            .map_err(|e| classify(url, self.timeout, &e))?;
        // The body is not read: only the status matters.
        Ok(response.status().as_u16())
    }
}

/// At most this many bytes of the `Cache-Control` header are kept.
const MAX_CACHE_CONTROL: usize = 1024;

/// The `Cache-Control` header lines joined with `, ` (they form one list),
/// unreadable lines skipped; over [`MAX_CACHE_CONTROL`] bytes, cut after the
/// last whole directive that fits.
fn cache_control(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let mut joined = String::new();
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(text) = value.to_str() else { continue };
        if !joined.is_empty() {
            joined.push_str(", ");
        }
        joined.push_str(text);
        if joined.len() > MAX_CACHE_CONTROL {
            break;
        }
    }
    let mut kept = joined.as_str();
    if kept.len() > MAX_CACHE_CONTROL {
        // `to_str` lets only visible ASCII through: every index is a char
        // boundary, and `get` would say so otherwise.
        let head = kept.get(..=MAX_CACHE_CONTROL).unwrap_or_default();
        let cut = head.rfind(',').unwrap_or(MAX_CACHE_CONTROL);
        kept = kept.get(..cut).unwrap_or_default();
    }
    let kept = kept.trim();
    (!kept.is_empty()).then(|| kept.to_owned())
}

/// The error and its causes on one line.
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The rustls error somewhere in the chain. An `io::Error` hides its inner
/// error from `source()`, so it is unwrapped by hand.
fn rustls_error<'a>(e: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(r) = rustls_error(inner) {
                    return Some(r);
                }
            }
        }
        current = err.source();
    }
    None
}

fn classify(url: &str, timeout: Duration, e: &reqwest::Error) -> FetchError {
    let url = url.to_owned();
    if e.is_timeout() {
        return FetchError::Timeout {
            url,
            seconds: timeout.as_secs(),
        };
    }
    let message = chain(e);
    match rustls_error(e) {
        Some(rustls::Error::InvalidCertificate(_)) => FetchError::Certificate { url, message },
        Some(_) => FetchError::Tls { url, message },
        None if e.is_connect() => FetchError::Connect { url, message },
        None => FetchError::Http { url, message },
    }
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderMap, HeaderValue, CACHE_CONTROL};

    use super::{cache_control, MAX_CACHE_CONTROL};

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(CACHE_CONTROL, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cache_control_lines_are_joined_and_long_values_cut_at_a_directive() {
        assert_eq!(cache_control(&headers(&[])), None);
        assert_eq!(cache_control(&headers(&["  "])), None);
        assert_eq!(
            cache_control(&headers(&["public", "max-age=86400"])).as_deref(),
            Some("public, max-age=86400")
        );
        let mut map = HeaderMap::new();
        let long = format!("{}, max-age=86400", "x".repeat(MAX_CACHE_CONTROL - 8));
        if let Ok(v) = HeaderValue::from_str(&long) {
            map.append(CACHE_CONTROL, v);
        }
        // The directive that does not fit whole is dropped, not cut to `max-age=8`.
        let kept = cache_control(&map).unwrap_or_default();
        assert_eq!(kept, "x".repeat(MAX_CACHE_CONTROL - 8));
        // No comma at all: cut at the cap.
        let mut map = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(&"y".repeat(3 * MAX_CACHE_CONTROL)) {
            map.append(CACHE_CONTROL, v);
        }
        assert_eq!(cache_control(&map).map(|s| s.len()), Some(MAX_CACHE_CONTROL));
    }
}
