//! TLSA records (RFC 6698) as DANE for SMTP uses them (RFC 7672, RFC 7671):
//! the presentation form parsed strictly, and what each record means for an
//! SMTP sender. Pure.

use std::fmt;

/// A certificate usage (RFC 6698 §2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// 0, PKIX-TA: a CA that must also be trusted by the web PKI.
    PkixTa,
    /// 1, PKIX-EE: the server's certificate, which must also be PKIX-valid.
    PkixEe,
    /// 2, DANE-TA: a trust anchor of the served chain.
    DaneTa,
    /// 3, DANE-EE: the server's certificate or key itself.
    DaneEe,
    /// 255, private use.
    Private,
}

/// A selector (RFC 6698 §2.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// 0: the whole certificate (DER).
    Cert,
    /// 1: the SubjectPublicKeyInfo (DER).
    Spki,
    /// 255, private use.
    Private,
}

/// A matching type (RFC 6698 §2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    /// 0: the selected data itself.
    Full,
    /// 1: its SHA-256.
    Sha256,
    /// 2: its SHA-512.
    Sha512,
    /// 255, private use.
    Private,
}

/// One TLSA record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlsa {
    /// The certificate usage.
    pub usage: Usage,
    /// The selector.
    pub selector: Selector,
    /// The matching type.
    pub matching: Matching,
    /// The certificate association data.
    pub data: Vec<u8>,
    /// The numbers as written (`3 1 1`).
    pub params: (u8, u8, u8),
}

/// Why a TLSA record is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsaError {
    /// Not `USAGE SELECTOR MATCHING DATA`.
    #[error("expected four fields, `USAGE SELECTOR MATCHING HEX` (e.g. `3 1 1 0a1b…`)")]
    Fields,
    /// A field is not a number from 0 to 255.
    #[error("the {0} field is not a number from 0 to 255")]
    NotANumber(&'static str),
    /// A number outside the registry.
    #[error("{field} {value} is not assigned (RFC 6698 §7: usages 0-3, selectors 0-1, matching types 0-2, 255 private)")]
    Unassigned {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: u8,
    },
    /// The data is not hexadecimal.
    #[error("the association data is not an even number of hex digits")]
    Hex,
    /// The digest has the wrong length for its matching type.
    #[error("a {name} digest is {want} bytes, this one is {got}")]
    DigestLength {
        /// SHA-256 or SHA-512.
        name: &'static str,
        /// The length it must have.
        want: usize,
        /// The length it has.
        got: usize,
    },
    /// Full data that is not a DER structure.
    #[error(
        "matching type 0 (full) needs the DER certificate or key, which starts with 30; this data does not"
    )]
    NotDer,
}

fn number(s: Option<&str>, field: &'static str) -> Result<u8, TlsaError> {
    s.ok_or(TlsaError::Fields)?
        .parse::<u8>()
        .map_err(|_| TlsaError::NotANumber(field))
}

/// Parses a TLSA record's presentation form (`3 1 1 <hex>`; white space
/// inside the hex is allowed, as in zone files).
pub fn parse_tlsa(text: &str) -> Result<Tlsa, TlsaError> {
    let text = text.trim().trim_start_matches('(').trim_end_matches(')');
    let mut fields = text.split_whitespace();
    let u = number(fields.next(), "usage")?;
    let s = number(fields.next(), "selector")?;
    let m = number(fields.next(), "matching type")?;
    let hex: String = fields.collect();
    if hex.is_empty() {
        return Err(TlsaError::Fields);
    }
    let usage = match u {
        0 => Usage::PkixTa,
        1 => Usage::PkixEe,
        2 => Usage::DaneTa,
        3 => Usage::DaneEe,
        255 => Usage::Private,
        value => {
            return Err(TlsaError::Unassigned {
                field: "usage",
                value,
            })
        }
    };
    let selector = match s {
        0 => Selector::Cert,
        1 => Selector::Spki,
        255 => Selector::Private,
        value => {
            return Err(TlsaError::Unassigned {
                field: "selector",
                value,
            })
        }
    };
    let matching = match m {
        0 => Matching::Full,
        1 => Matching::Sha256,
        2 => Matching::Sha512,
        255 => Matching::Private,
        value => {
            return Err(TlsaError::Unassigned {
                field: "matching type",
                value,
            })
        }
    };
    if !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TlsaError::Hex);
    }
    let data: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    match matching {
        Matching::Sha256 if data.len() != 32 => {
            return Err(TlsaError::DigestLength {
                name: "SHA-256",
                want: 32,
                got: data.len(),
            })
        }
        Matching::Sha512 if data.len() != 64 => {
            return Err(TlsaError::DigestLength {
                name: "SHA-512",
                want: 64,
                got: data.len(),
            })
        }
        Matching::Full if data.first() != Some(&0x30) => return Err(TlsaError::NotDer),
        _ => {}
    }
    Ok(Tlsa {
        usage,
        selector,
        matching,
        data,
        params: (u, s, m),
    })
}

impl Tlsa {
    /// Whether an SMTP sender can use it (RFC 7672 §3.1.3: PKIX-TA and
    /// PKIX-EE are unusable for SMTP; private-use values are unknown to it).
    pub fn usable_for_smtp(&self) -> bool {
        matches!(self.usage, Usage::DaneTa | Usage::DaneEe)
            && self.selector != Selector::Private
            && self.matching != Matching::Private
    }
}

impl fmt::Display for Tlsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (u, s, m) = self.params;
        let hex: String = self.data.iter().map(|b| format!("{b:02x}")).collect();
        let shown = if hex.len() > 16 {
            format!("{}…", &hex[..16])
        } else {
            hex
        };
        write!(f, "{u} {s} {m} {shown}")
    }
}

/// How one TLSA record fared against a served certificate chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainMatch {
    /// DANE-EE: the server's certificate (selector 0) or key (selector 1)
    /// matches. RFC 7672 §3.1.1: names and expiry are not checked.
    EndEntity,
    /// DANE-TA: the certificate or key at this position of the chain (1 =
    /// the issuer of the server's certificate) matches. RFC 7672 §3.1.2: the
    /// chain up to it must be valid and the name checked as well.
    TrustAnchor(usize),
    /// No certificate of the chain matches.
    None,
    /// The record cannot match for SMTP (PKIX usages, private use).
    Unusable,
}

/// The data a record's selector and matching type take from one DER
/// certificate (`None` when the certificate cannot be parsed).
#[cfg(feature = "live")]
pub fn association(t: &Tlsa, cert_der: &[u8]) -> Option<Vec<u8>> {
    use sha2::{Digest, Sha256, Sha512};
    let selected: Vec<u8> = match t.selector {
        Selector::Cert => cert_der.to_vec(),
        Selector::Spki => {
            let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
            cert.tbs_certificate.subject_pki.raw.to_vec()
        }
        Selector::Private => return None,
    };
    Some(match t.matching {
        Matching::Full => selected,
        Matching::Sha256 => Sha256::digest(&selected).to_vec(),
        Matching::Sha512 => Sha512::digest(&selected).to_vec(),
        Matching::Private => return None,
    })
}

/// Matches one record against the chain a server presented (leaf first), as
/// an SMTP sender does (RFC 7672 §3.1): DANE-EE against the leaf only,
/// DANE-TA against the certificates above it (a trust anchor the server does
/// not send cannot be found; RFC 7671 §5.2.2 asks servers to send it).
#[cfg(feature = "live")]
pub fn match_chain(t: &Tlsa, chain: &[impl AsRef<[u8]>]) -> ChainMatch {
    if !t.usable_for_smtp() {
        return ChainMatch::Unusable;
    }
    let hit = |der: &[u8]| association(t, der).is_some_and(|d| d == t.data);
    match t.usage {
        Usage::DaneEe => match chain.first() {
            Some(leaf) if hit(leaf.as_ref()) => ChainMatch::EndEntity,
            _ => ChainMatch::None,
        },
        Usage::DaneTa => chain
            .iter()
            .enumerate()
            .skip(1)
            .find(|(_, c)| hit(c.as_ref()))
            .map_or(ChainMatch::None, |(i, _)| ChainMatch::TrustAnchor(i)),
        _ => ChainMatch::Unusable,
    }
}

/// The TLSA record (`USAGE SELECTOR MATCHING HEX`) that matches `cert_der`
/// with the given parameters, as a deployment would publish it.
#[cfg(feature = "live")]
pub fn record_for(usage: u8, selector: u8, matching: u8, cert_der: &[u8]) -> Option<String> {
    let t = parse_tlsa(&format!(
        "{usage} {selector} {matching} {}",
        if matching == 1 {
            "00".repeat(32)
        } else if matching == 2 {
            "00".repeat(64)
        } else {
            "30".into()
        }
    ))
    .ok()?;
    let data = association(&t, cert_der)?;
    Some(format!("{usage} {selector} {matching} {}", crate::hex(&data)))
}

/// The MX host a TLSA owner name is for: `_25._tcp.<host>` gives `<host>`.
pub fn smtp_host(owner: &str) -> Option<&str> {
    owner.strip_prefix("_25._tcp.").filter(|h| !h.is_empty())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const D256: &str = "8cb0fc6c527506a053f4f14c8464bebbd6dede2738d11468dd953d7d6a3021f1";

    #[test]
    fn parses_the_common_forms() {
        let t = parse_tlsa(&format!("3 1 1 {D256}")).unwrap();
        assert_eq!(
            (t.usage, t.selector, t.matching, t.data.len()),
            (Usage::DaneEe, Selector::Spki, Matching::Sha256, 32)
        );
        assert!(t.usable_for_smtp());
        assert_eq!(t.to_string(), "3 1 1 8cb0fc6c527506a0…");
        let split = format!("2 1 1 {} {}", &D256[..32], &D256[32..].to_uppercase());
        assert_eq!(parse_tlsa(&split).unwrap().usage, Usage::DaneTa);
        assert!(!parse_tlsa(&format!("1 1 1 {D256}")).unwrap().usable_for_smtp());
        assert!(parse_tlsa("3 0 0 3082010a02820101").is_ok());
        assert_eq!(smtp_host("_25._tcp.mx1.example.com"), Some("mx1.example.com"));
        assert_eq!(smtp_host("_443._tcp.www.example.com"), None);
    }

    #[test]
    fn refuses_malformed_records() {
        assert_eq!(parse_tlsa("3 1 1"), Err(TlsaError::Fields));
        assert_eq!(parse_tlsa("3 1"), Err(TlsaError::Fields));
        assert_eq!(
            parse_tlsa(&format!("x 1 1 {D256}")),
            Err(TlsaError::NotANumber("usage"))
        );
        assert_eq!(
            parse_tlsa(&format!("4 1 1 {D256}")),
            Err(TlsaError::Unassigned {
                field: "usage",
                value: 4
            })
        );
        assert_eq!(
            parse_tlsa(&format!("3 2 1 {D256}")),
            Err(TlsaError::Unassigned {
                field: "selector",
                value: 2
            })
        );
        assert_eq!(parse_tlsa("3 1 1 abc"), Err(TlsaError::Hex));
        assert_eq!(parse_tlsa("3 1 1 zz"), Err(TlsaError::Hex));
        assert_eq!(
            parse_tlsa(&format!("3 1 2 {D256}")),
            Err(TlsaError::DigestLength {
                name: "SHA-512",
                want: 64,
                got: 32
            })
        );
        assert_eq!(parse_tlsa("3 0 0 0102"), Err(TlsaError::NotDer));
    }
}
