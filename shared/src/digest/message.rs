//! The digest mail: a MIME message with a plain-text part and an HTML part
//! whose chart images travel beside it (`multipart/alternative` holding the
//! text and a `multipart/related` of the HTML and its PNGs, referenced by
//! `cid:`).
//!
//! Header values come from the operator's configuration (addresses) and from
//! [`super::render::subject`] (counts only); addresses are checked and the
//! subject is stripped of line breaks, so no report text can reach a header.

use base64::Engine as _;
use chrono::{DateTime, Utc};

/// An image shown inline in the HTML part.
#[derive(Debug, Clone, PartialEq)]
pub struct InlineImage {
    /// The `Content-ID` without angle brackets; the HTML refers to it as `cid:…`.
    pub content_id: String,
    /// The file name offered to clients that list it.
    pub file_name: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// What goes into one digest mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail<'a> {
    /// The sender address (`From`).
    pub from: &'a str,
    /// The recipients (`To`).
    pub to: &'a [String],
    /// The subject.
    pub subject: &'a str,
    /// When the mail is made (`Date`).
    pub date: DateTime<Utc>,
    /// The plain-text body.
    pub text: &'a str,
    /// The HTML body.
    pub html: &'a str,
    /// Images the HTML refers to.
    pub images: &'a [InlineImage],
}

/// The mail could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    /// An address is not a plain `local@domain` address.
    #[error("{field} address {address:?} is not a plain address like reports@example.com")]
    BadAddress {
        /// `From` or `To`.
        field: &'static str,
        /// The address as given (escaped when shown).
        address: String,
    },
    /// There are no recipients.
    #[error("no recipients")]
    NoRecipients,
}

/// Checks that `a` is a bare `local@domain` address of printable ASCII without
/// spaces or the characters that would let it become more than one address or
/// header (`<>(),;:"[]\`).
pub fn check_address(field: &'static str, a: &str) -> Result<(), MessageError> {
    let bad = || MessageError::BadAddress {
        field,
        address: a.escape_debug().to_string(),
    };
    let (local, domain) = a.rsplit_once('@').ok_or_else(bad)?;
    let ok_char = |c: char| c.is_ascii_graphic() && !"<>(),;:\"[]\\@".contains(c);
    if local.is_empty()
        || domain.is_empty()
        || a.len() > 254
        || !local.chars().all(ok_char)
        || !domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        || !domain.contains('.')
    {
        return Err(bad());
    }
    Ok(())
}

/// A header value safe to write: line breaks and other control characters
/// become spaces; non-ASCII text is encoded as an RFC 2047 encoded-word.
fn header_value(s: &str) -> String {
    let clean = crate::text::spaced(s, crate::text::UNCUT);
    if clean.is_ascii() {
        clean
    } else {
        format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(clean.as_bytes())
        )
    }
}

/// Base64 in lines of 76 characters, each ended by CRLF.
fn base64_lines(bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(b64.len() + b64.len() / 38 + 2);
    for chunk in b64.as_bytes().chunks(76) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// Builds the raw message (CRLF line ends). The `Message-ID` is derived from
/// the content, so the same digest gives the same id.
pub fn build(m: &Mail<'_>) -> Result<Vec<u8>, MessageError> {
    check_address("From", m.from)?;
    if m.to.is_empty() {
        return Err(MessageError::NoRecipients);
    }
    for a in m.to {
        check_address("To", a)?;
    }
    let hash = crate::sha256_hex(
        [m.subject.as_bytes(), m.text.as_bytes(), m.html.as_bytes()]
            .concat()
            .as_slice(),
    );
    let tag = &hash[..24];
    let sender_domain = m.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let alt = format!("=_alt_{tag}");
    let rel = format!("=_rel_{tag}");

    let mut o = String::new();
    o.push_str(&format!("From: {}\r\n", m.from));
    o.push_str(&format!("To: {}\r\n", m.to.join(", ")));
    o.push_str(&format!("Subject: {}\r\n", header_value(m.subject)));
    o.push_str(&format!(
        "Date: {}\r\n",
        m.date.format("%a, %d %b %Y %H:%M:%S +0000")
    ));
    o.push_str(&format!("Message-ID: <stsguard.{tag}@{sender_domain}>\r\n"));
    o.push_str("MIME-Version: 1.0\r\n");
    o.push_str("Auto-Submitted: auto-generated\r\n");
    o.push_str(&format!(
        "Content-Type: multipart/alternative; boundary=\"{alt}\"\r\n\r\n"
    ));
    o.push_str("This is a MIME message: a plain-text digest and an HTML digest with charts.\r\n");

    o.push_str(&format!("\r\n--{alt}\r\n"));
    o.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    o.push_str(&base64_lines(m.text.as_bytes()));

    o.push_str(&format!("\r\n--{alt}\r\n"));
    o.push_str(&format!(
        "Content-Type: multipart/related; boundary=\"{rel}\"; type=\"text/html\"\r\n\r\n"
    ));
    o.push_str(&format!("--{rel}\r\n"));
    o.push_str("Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    o.push_str(&base64_lines(m.html.as_bytes()));
    for img in m.images {
        let cid = header_value(&img.content_id);
        let name = header_value(&img.file_name).replace('"', "");
        o.push_str(&format!("\r\n--{rel}\r\n"));
        o.push_str(&format!(
            "Content-Type: image/png; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
             Content-ID: <{cid}>\r\nContent-Disposition: inline; filename=\"{name}\"\r\n\r\n"
        ));
        o.push_str(&base64_lines(&img.png));
    }
    o.push_str(&format!("\r\n--{rel}--\r\n"));
    o.push_str(&format!("\r\n--{alt}--\r\n"));
    Ok(o.into_bytes())
}

/// A `data:` URI of a PNG, for a stored HTML page that shows its charts
/// without a mail around it.
pub fn data_uri(png: &[u8]) -> String {
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_that_could_inject_are_refused() {
        assert!(check_address("To", "ops@example.com").is_ok());
        assert!(check_address("To", "first.last+tls@mail.example.co.uk").is_ok());
        for bad in [
            "",
            "ops",
            "ops@",
            "@example.com",
            "ops@example",
            "ops@example.com\r\nBcc: x@evil.example",
            "a@b.com, c@d.com",
            "Ops <ops@example.com>",
            "o ps@example.com",
        ] {
            assert!(check_address("To", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn header_values_never_break_lines() {
        assert_eq!(header_value("a\r\nBcc: x"), "a  Bcc: x");
        assert!(header_value("grüße").starts_with("=?utf-8?b?"));
    }
}
