//! What a server's certificate says, for a person: names, issuer, validity.
//! Pure: DER in, facts out (x509-parser); nothing here decides trust, which the
//! TLS handshake did.

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// At most this many SAN DNS names are kept.
pub const MAX_SAN_NAMES: usize = 20;
/// At most this many characters of a name or an issuer are kept.
const MAX_TEXT: usize = 200;
/// A certificate that ends within this many seconds gets a warning (NET003 for
/// the policy host, NET008 for an MX host): 14 days, half of a usual ACME
/// renewal window.
pub const EXPIRY_WARNING: i64 = 14 * 86_400;

/// Facts from the leaf certificate a server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The subject's common name, when there is one.
    pub subject: Option<String>,
    /// The issuer's common name, or its organization.
    pub issuer: Option<String>,
    /// The SAN DNS names (at most [`MAX_SAN_NAMES`]).
    pub dns_names: Vec<String>,
    /// Start of validity, Unix seconds.
    pub not_before: i64,
    /// End of validity, Unix seconds.
    pub not_after: i64,
}

fn clip(s: &str) -> String {
    crate::text::escaped(s, MAX_TEXT)
}

/// Reads the facts from a DER certificate; `None` when it does not parse.
pub fn cert_facts(der: &[u8]) -> Option<CertFacts> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let first = |name: &x509_parser::x509::X509Name<'_>| {
        name.iter_common_name()
            .next()
            .or_else(|| name.iter_organization().next())
            .and_then(|a| a.as_str().ok())
            .map(clip)
    };
    let subject = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .map(clip);
    let dns_names = match cert.subject_alternative_name() {
        Ok(Some(san)) => san
            .value
            .general_names
            .iter()
            .filter_map(|n| match n {
                GeneralName::DNSName(d) => Some(clip(d)),
                _ => None,
            })
            .take(MAX_SAN_NAMES)
            .collect(),
        _ => Vec::new(),
    };
    Some(CertFacts {
        subject,
        issuer: first(cert.issuer()),
        dns_names,
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// A Unix time as `YYYY-MM-DD` (UTC).
pub fn day(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map_or_else(|| unix.to_string(), |t| t.format("%Y-%m-%d").to_string())
}

/// How many whole days from `now` until `facts` expires, when that is less
/// than [`EXPIRY_WARNING`] and not past (an expired certificate fails the
/// handshake and is reported as such).
pub fn expires_soon(facts: &CertFacts, now: i64) -> Option<i64> {
    let left = facts.not_after - now;
    (0..EXPIRY_WARNING).contains(&left).then_some(left / 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_of_a_generated_certificate() -> Result<(), Box<dyn std::error::Error>> {
        let mut params =
            rcgen::CertificateParams::new(vec!["mx1.example.com".to_owned(), "mx2.example.com".to_owned()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "mx1.example.com");
        params.not_before = rcgen::date_time_ymd(2026, 1, 2);
        params.not_after = rcgen::date_time_ymd(2027, 3, 4);
        let key = rcgen::KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        let facts = cert_facts(cert.der()).ok_or("no facts")?;
        assert_eq!(facts.subject.as_deref(), Some("mx1.example.com"));
        assert_eq!(facts.issuer.as_deref(), Some("mx1.example.com"));
        assert_eq!(facts.dns_names, ["mx1.example.com", "mx2.example.com"]);
        assert_eq!(day(facts.not_before), "2026-01-02");
        assert_eq!(day(facts.not_after), "2027-03-04");
        Ok(())
    }

    #[test]
    fn garbage_is_none_and_days_format() {
        assert_eq!(cert_facts(b"not a certificate"), None);
        assert_eq!(cert_facts(&[]), None);
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(1_780_000_000), "2026-05-28");
        let f = CertFacts {
            subject: None,
            issuer: None,
            dns_names: Vec::new(),
            not_before: 0,
            not_after: 1_000_000,
        };
        assert_eq!(expires_soon(&f, 1_000_000 - 3 * 86_400 - 5), Some(3));
        assert_eq!(expires_soon(&f, 1_000_000 - EXPIRY_WARNING), None);
        assert_eq!(expires_soon(&f, 1_000_001), None);
    }
}
