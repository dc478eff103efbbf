//! DNS names: one way to normalise them and one way to check their syntax,
//! for names from reports, plans, configuration, the command line and DNS
//! answers alike.

/// The form every host and domain name is compared and stored in: surrounding
/// white space removed, one trailing dot removed, ASCII lower case.
pub fn normalize(name: &str) -> String {
    let t = name.trim();
    let t = t.strip_suffix('.').unwrap_or(t);
    t.to_ascii_lowercase()
}

/// [`normalize`] for an owned string, reusing it when it is already normal
/// (the common case).
pub fn normalize_owned(name: String) -> String {
    let normal = !name.ends_with('.')
        && name.trim().len() == name.len()
        && !name.bytes().any(|b| b.is_ascii_uppercase());
    if normal {
        name
    } else {
        normalize(&name)
    }
}

/// Which characters a label may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Labels {
    /// Letters, digits and hyphens (RFC 1123 host names, RFC 8461 `mx` values).
    Ldh,
    /// Also `_` (owner names such as `_mta-sts`, names as reports write them).
    Underscore,
}

/// Whether `name` is a syntactically valid DNS name: labels of 1-63 octets of
/// the given characters, not starting or ending with a hyphen, at most 253
/// octets in all. No trailing dot, no wildcard: callers strip those first.
pub fn is_valid(name: &[u8], labels: Labels) -> bool {
    let allowed =
        |b: u8| b.is_ascii_alphanumeric() || b == b'-' || (b == b'_' && labels == Labels::Underscore);
    !name.is_empty()
        && name.len() <= 253
        && name.split(|&b| b == b'.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.iter().all(|&b| allowed(b))
                && label.first() != Some(&b'-')
                && label.last() != Some(&b'-')
        })
}

/// Whether `name`, after [`normalize`], is a domain the command line can be
/// asked about: valid with underscores and of at least two labels.
pub fn is_domain_argument(name: &str) -> bool {
    let n = normalize(name);
    n.contains('.') && is_valid(n.as_bytes(), Labels::Underscore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_trims_one_dot_and_lowers() {
        assert_eq!(normalize(" MX1.Example.COM. "), "mx1.example.com");
        assert_eq!(normalize("a.."), "a.");
        assert_eq!(normalize_owned("Mail.Example.".into()), "mail.example");
        assert_eq!(normalize_owned("mail.example".into()), "mail.example");
    }

    #[test]
    fn rfc1035_2_3_1_label_syntax() {
        assert!(is_valid(b"mx1.example.com", Labels::Ldh));
        assert!(!is_valid(b"_mta-sts.example.com", Labels::Ldh));
        assert!(is_valid(b"_mta-sts.example.com", Labels::Underscore));
        for bad in [&b""[..], b"a..b", b"-a.b", b"a-.b", b"a b.c", b"a.b.", b"*.b"] {
            assert!(!is_valid(bad, Labels::Underscore), "{bad:?}");
        }
        assert!(is_valid(&[b'a'; 63], Labels::Ldh));
        assert!(!is_valid(&[b'a'; 64], Labels::Ldh));
        let long = vec!["a".repeat(50); 5].join(".");
        assert_eq!(long.len(), 254);
        assert!(!is_valid(long.as_bytes(), Labels::Ldh));
    }

    #[test]
    fn command_line_domains() {
        assert!(is_domain_argument("Example.COM."));
        assert!(!is_domain_argument("localhost"));
        assert!(!is_domain_argument("exa mple.com"));
        assert!(!is_domain_argument(""));
    }
}
