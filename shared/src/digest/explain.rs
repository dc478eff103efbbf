//! What each TLSRPT result type means, in plain words: the usual causes, what to
//! check first, and where the RFC defines it. The 11 types of the IANA
//! registry each have their own text; any other type gets a general one.

/// The explanation of one result type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Explanation {
    /// The result type this explains (`"unknown"` for the general text).
    pub result_type: &'static str,
    /// What happened, in one or two sentences.
    pub meaning: &'static str,
    /// The usual causes, most common first.
    pub causes: &'static [&'static str],
    /// The first thing to look at.
    pub check_first: &'static str,
    /// Where the RFCs define it.
    pub rfc: &'static str,
}

const EXPLANATIONS: [Explanation; 11] = [
    Explanation {
        result_type: "starttls-not-supported",
        meaning: "The sender reached your MX host, but the host did not offer STARTTLS (or the STARTTLS command failed), so no encrypted session was possible.",
        causes: &[
            "STARTTLS is switched off or broken on one MX host, often a backup MX or a host added recently",
            "the TLS certificate or key failed to load, so the mail server stopped advertising STARTTLS",
            "a firewall or SMTP proxy strips STARTTLS from the EHLO answer",
            "a load balancer sends some connections to a node without TLS",
        ],
        check_first: "Connect to each MX host named in the failure details: `openssl s_client -starttls smtp -connect MX:25 -servername MX` must show a certificate; `stsguard check DOMAIN` tests every MX.",
        rfc: "RFC 8460 §4.3.1",
    },
    Explanation {
        result_type: "certificate-host-mismatch",
        meaning: "The MX host's certificate does not name the host the sender connected to (or, for MTA-STS, the host does not match the policy's mx patterns).",
        causes: &[
            "the certificate's Subject Alternative Names list the domain or another host, not the MX host name itself",
            "the MX record points at a provider's host name that is not on your certificate",
            "a wildcard certificate covers one label only: *.example.com does not cover mx.eu.example.com",
            "an MX was added or renamed and the policy's mx lines were not updated",
        ],
        check_first: "The SAN list of the certificate served on port 25 must contain the exact MX host name from DNS; the policy's mx lines must match every MX (`stsguard lint --domain DOMAIN --policy mta-sts.txt --mx HOST`).",
        rfc: "RFC 8460 §4.3.1; RFC 8461 §4.1, §4.2",
    },
    Explanation {
        result_type: "certificate-expired",
        meaning: "The MX host's certificate is past its expiry date (or not yet valid).",
        causes: &[
            "the certificate was renewed, but the mail server was not reloaded and still serves the old one",
            "automatic renewal (ACME) is failing",
            "one of several MX hosts was missed when the certificate was rolled out",
        ],
        check_first: "The notAfter date of the certificate each MX serves on port 25 (`openssl s_client -starttls smtp -connect MX:25 | openssl x509 -noout -enddate`); reload the MTA after every renewal.",
        rfc: "RFC 8460 §4.3.1",
    },
    Explanation {
        result_type: "certificate-not-trusted",
        meaning: "The sender could not build a chain from the MX host's certificate to a certificate authority it trusts.",
        causes: &[
            "the server does not send the intermediate certificate(s) with its own",
            "a self-signed certificate or one from a private CA",
            "a chain that ends at a retired or distrusted root",
        ],
        check_first: "The full chain each MX serves (`openssl s_client -starttls smtp -connect MX:25 -showcerts`): it must include the intermediates up to a public root.",
        rfc: "RFC 8460 §4.3.1",
    },
    Explanation {
        result_type: "validation-failure",
        meaning: "TLS failed for a reason that has no type of its own; the failure reason code and additional information, when the sender gave them, say which.",
        causes: &[
            "no TLS version or cipher in common (an MX that offers only TLS 1.0/1.1, or only very new ciphers)",
            "the connection was reset during the TLS handshake",
            "a certificate problem the sender does not classify further",
        ],
        check_first: "The failure reason codes in the report details, then the TLS versions and ciphers each MX offers: TLS 1.2 or later is required by RFC 8461 §4.",
        rfc: "RFC 8460 §4.3.1, §4.3.3",
    },
    Explanation {
        result_type: "tlsa-invalid",
        meaning: "DANE: the MX host has TLSA records, but none of them matches the certificate it serves.",
        causes: &[
            "the certificate or key was replaced without publishing its TLSA record first",
            "a TLSA record with the wrong selector or matching type",
            "stale TLSA records left after a move to another provider",
        ],
        check_first: "The TLSA records at _25._tcp.MX against the served certificate; publish the next key's TLSA record before every rollover.",
        rfc: "RFC 8460 §4.3.2.1; RFC 7672",
    },
    Explanation {
        result_type: "dnssec-invalid",
        meaning: "DANE: the sender's resolver could not validate the DNSSEC signatures of records it needed (MX, TLSA or the host's address).",
        causes: &[
            "expired signatures (RRSIG) in a signed zone",
            "a DS record at the parent that no longer matches the zone's key after a key rollover",
            "broken denial-of-existence records (NSEC/NSEC3)",
        ],
        check_first: "Validate the domain and each MX host's zone with a DNSSEC debugger (DNSViz, `delv`).",
        rfc: "RFC 8460 §4.3.2.1",
    },
    Explanation {
        result_type: "dane-required",
        meaning: "DANE: the sender requires DANE for this destination but found no usable, DNSSEC-validated TLSA records.",
        causes: &[
            "the TLSA records were removed",
            "the MX host's zone is not signed, so its TLSA records cannot be validated",
        ],
        check_first: "That each MX host's zone is signed and _25._tcp.MX has a TLSA record.",
        rfc: "RFC 8460 §4.3.2.1; RFC 7672",
    },
    Explanation {
        result_type: "sts-policy-fetch-error",
        meaning: "The sender could not fetch your MTA-STS policy from https://mta-sts.DOMAIN/.well-known/mta-sts.txt.",
        causes: &[
            "the policy host's DNS: no record, or negative caching right after the record was created (short TTLs help)",
            "an answer other than 200: senders never follow a redirect",
            "a Content-Type other than text/plain",
            "a certificate that is not valid for mta-sts.DOMAIN",
            "the host was slow or unreachable",
        ],
        check_first: "`curl -sv https://mta-sts.DOMAIN/.well-known/mta-sts.txt`: status 200, no redirect, `Content-Type: text/plain`, a certificate for mta-sts.DOMAIN; or `stsguard check DOMAIN`.",
        rfc: "RFC 8460 §4.3.2.2; RFC 8461 §3.3",
    },
    Explanation {
        result_type: "sts-policy-invalid",
        meaning: "The sender fetched your MTA-STS policy but could not use it: it does not follow the policy syntax.",
        causes: &[
            "a missing or misspelled version: STSv1, mode or max_age line",
            "a mode other than testing, enforce or none",
            "an HTML error page served with status 200",
            "an mx line that is not a host name or *.pattern",
        ],
        check_first: "`stsguard lint --domain DOMAIN --policy mta-sts.txt` on the file the host serves.",
        rfc: "RFC 8460 §4.3.2.2; RFC 8461 §3.2",
    },
    Explanation {
        result_type: "sts-webpki-invalid",
        meaning: "The certificate of your policy host mta-sts.DOMAIN failed validation, so the sender could not trust the policy.",
        causes: &[
            "the certificate does not name mta-sts.DOMAIN (a CDN's or hosting provider's default certificate)",
            "the certificate expired",
            "the server does not send the intermediate certificates",
        ],
        check_first: "The certificate served at mta-sts.DOMAIN:443 with SNI: it must name that host and chain to a public root.",
        rfc: "RFC 8460 §4.3.2.2; RFC 8461 §3.3",
    },
];

const UNKNOWN: Explanation = Explanation {
    result_type: "unknown",
    meaning: "The sender used a result type that is not in the IANA registry, so its exact meaning is the sender's own.",
    causes: &[
        "a sender-specific failure class, or a typo in the sender's report",
    ],
    check_first: "The failure details (failure reason code, additional information) of the reports that carry it, and the sender's documentation.",
    rfc: "RFC 8460 §4.3 and the IANA registry of result types",
};

/// The explanation of `result_type` (compared without regard to case); the
/// general text for a type outside the registry.
pub fn explain(result_type: &str) -> &'static Explanation {
    EXPLANATIONS
        .iter()
        .find(|e| e.result_type.eq_ignore_ascii_case(result_type))
        .unwrap_or(&UNKNOWN)
}

/// All explanations of registered result types.
pub fn all() -> &'static [Explanation] {
    &EXPLANATIONS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::KNOWN_RESULT_TYPES;

    #[test]
    fn every_registered_type_has_its_own_text() {
        for t in KNOWN_RESULT_TYPES {
            let e = explain(t);
            assert_eq!(e.result_type, t);
            assert!(e.rfc.starts_with("RFC 8460"), "{t}");
            assert!(!e.causes.is_empty(), "{t}");
            assert_eq!(
                e.check_first.matches('`').count() % 2,
                0,
                "{t}: unpaired backtick"
            );
        }
        assert_eq!(all().len(), KNOWN_RESULT_TYPES.len());
        assert_eq!(explain("STS-POLICY-INVALID").result_type, "sts-policy-invalid");
        assert_eq!(explain("x-new-thing").result_type, "unknown");
    }
}
