//! The rule catalogue: every lint rule once, with its stable ID, a title, its
//! default severity, what it checks and how to fix it, and the RFC sections
//! behind it. SARIF rule metadata, `stsguard explain`, the configuration file's
//! rule names and the README's rule list all read this table.
//!
//! A finding may carry another severity than the default where the rule says
//! so (XCK001 is an error in enforce mode and a warning in testing mode); the
//! default is the one SARIF declares as `defaultConfiguration`.

use crate::diag::Severity;

/// One lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The stable ID, e.g. `XCK001`. An ID is never reused.
    pub id: &'static str,
    /// A few words naming what the rule catches.
    pub title: &'static str,
    /// The severity of its findings unless the rule's own logic says otherwise.
    pub severity: Severity,
    /// What the rule checks and how to fix it, in one to three sentences.
    pub help: &'static str,
    /// Where the RFCs say it, e.g. `RFC 8461 §3.1`; empty for the PLN family
    /// (notes about the plan, not about the protocol).
    pub rfc: &'static str,
}

/// Every rule this version implements, in catalogue order; the PLN family (what
/// a plan cannot tell) comes last.
pub static RULES: &[Rule] = &[
    Rule {
        id: "STS001",
        title: "policy without an _mta-sts record",
        severity: Severity::Error,
        help: "Senders find a policy only through the TXT record at `_mta-sts.<domain>`; without a `v=STSv1` record there, the policy is never fetched. Publish `v=STSv1; id=<id>` at that name, and keep it until the policy is in mode none and the old max_age has passed. Offline this fires when the record is known to be absent (a plan deleting it, or only other TXT records there) while a testing or enforce policy stays; whether a record published outside the plan exists needs a live lookup.",
        rfc: "RFC 8461 §3, §3.1",
    },
    Rule {
        id: "STS002",
        title: "_mta-sts record does not start with v=STSv1",
        severity: Severity::Error,
        help: "The _mta-sts TXT record must begin with exactly `v=STSv1` (case-sensitive, nothing before it, no spaces around `=`); otherwise senders discard it. Rewrite it as `v=STSv1; id=<id>`.",
        rfc: "RFC 8461 §3.1 (ABNF)",
    },
    Rule {
        id: "STS003",
        title: "more than one v=STSv1 record",
        severity: Severity::Error,
        help: "Senders need exactly one `v=STSv1` record at _mta-sts; with two or more they treat the domain as having no policy. Delete all but one.",
        rfc: "RFC 8461 §3.1",
    },
    Rule {
        id: "STS004",
        title: "id missing or not 1-32 letters and digits",
        severity: Severity::Error,
        help: "The `id` must be 1 to 32 letters or digits, nothing else (no dashes, dots or colons). Use e.g. a timestamp like 20240601T120000 without punctuation, and change it whenever the policy changes.",
        rfc: "RFC 8461 §3.1 (ABNF)",
    },
    Rule {
        id: "STS005",
        title: "_mta-sts record grammar",
        severity: Severity::Error,
        help: "The record must be `name=value` fields separated by `;` (spaces only next to `;`), with no empty fields and nothing trailing. Character-strings are joined with no separator, so split values must not gain spaces.",
        rfc: "RFC 8461 §3.1",
    },
    Rule {
        id: "STS006",
        title: "whitespace before the first ;",
        severity: Severity::Warning,
        help: "`v=STSv1 ;` is grammatical but fails the `begins with v=STSv1;` test some senders and tools apply. Remove the space before the `;`.",
        rfc: "RFC 8461 §3.1, erratum 6285",
    },
    Rule {
        id: "STS007",
        title: "field repeated in the _mta-sts record",
        severity: Severity::Warning,
        help: "A field appears twice. The RFC takes the first, but some senders take the last, so they can disagree about the id. Keep one.",
        rfc: "RFC 8461 §3.2",
    },
    Rule {
        id: "STS008",
        title: "record at the wrong name, or unrelated records at _mta-sts",
        severity: Severity::Warning,
        help: "Senders look for the record only at `_mta-sts.<policy domain>`, and only `v=STSv1` records belong there: move a record from the apex, `_mta_sts` or a parent zone, and move unrelated TXT records (often from a wildcard) away.",
        rfc: "RFC 8461 §3.1, §3.4",
    },
    Rule {
        id: "STS009",
        title: "TTL of the _mta-sts or _smtp._tls record",
        severity: Severity::Info,
        help: "DNS TTLs: keep _mta-sts at or below an hour so id changes spread, but at least 300 s (for it and the mta-sts host) so a DNS hiccup does not hide the policy; give _smtp._tls a long TTL (or DNSSEC).",
        rfc: "RFC 8461 §8.1; RFC 8460 §7",
    },
    Rule {
        id: "STS010",
        title: "unknown extension field",
        severity: Severity::Info,
        help: "An unknown field or key: senders ignore it, some checkers complain. Remove it unless you rely on it.",
        rfc: "RFC 8461 §3.2; RFC 8460 §3",
    },
    Rule {
        id: "TLR001",
        title: "active policy without a usable TLSRPT record",
        severity: Severity::Warning,
        help: "The MTA-STS policy is active but there is no usable _smtp._tls record, so senders never report failures. Publish `v=TLSRPTv1; rua=mailto:<address>`.",
        rfc: "RFC 8461 §5, §6; RFC 8460 §3",
    },
    Rule {
        id: "TLR002",
        title: "_smtp._tls record does not start with v=TLSRPTv1",
        severity: Severity::Error,
        help: "The _smtp._tls record must begin with exactly `v=TLSRPTv1`. Rewrite it as `v=TLSRPTv1; rua=mailto:<address>`.",
        rfc: "RFC 8460 §3 (ABNF)",
    },
    Rule {
        id: "TLR003",
        title: "more than one v=TLSRPTv1 record",
        severity: Severity::Error,
        help: "Senders need exactly one `v=TLSRPTv1` record; with more they assume there is none. Merge them into one record with a comma-separated rua list.",
        rfc: "RFC 8460 §3",
    },
    Rule {
        id: "TLR004",
        title: "rua missing or empty",
        severity: Severity::Error,
        help: "The record needs a non-empty `rua=` list of report destinations.",
        rfc: "RFC 8460 §3",
    },
    Rule {
        id: "TLR005",
        title: "rua scheme not mailto: or https:",
        severity: Severity::Error,
        help: "Report destinations must be `mailto:` or `https:` URIs. Write `rua=mailto:tlsrpt@example.com`, not a bare address.",
        rfc: "RFC 8460 §3",
    },
    Rule {
        id: "TLR006",
        title: "rua or record syntax",
        severity: Severity::Error,
        help: "A rua URI is malformed: no spaces around `=`, percent-encode `,` `!` and `;` inside URIs, and no DMARC-style size suffix like `!10m`.",
        rfc: "RFC 8460 §3 (ABNF)",
    },
    Rule {
        id: "TLR007",
        title: "legal but poorly supported TLSRPT record form",
        severity: Severity::Warning,
        help: "Legal but poorly supported: put all destinations in one `rua=` field directly after `v=TLSRPTv1`, and no space before the first `;`.",
        rfc: "RFC 8460 §3",
    },
    Rule {
        id: "TLR008",
        title: "TLSRPT record at the wrong name",
        severity: Severity::Warning,
        help: "Senders look for the TLSRPT record only at `_smtp._tls.<domain>` (not `_smtp-tlsrpt`, `_smtp._tcp` or the apex). Move it there.",
        rfc: "RFC 8460 §3",
    },
    Rule {
        id: "POL001",
        title: "policy body is not a key/value policy",
        severity: Severity::Error,
        help: "The policy body is not a key/value policy (HTML, JSON, empty, or a byte order mark before the first key). Serve plain `key: value` lines.",
        rfc: "RFC 8461 §3.2 (ABNF)",
    },
    Rule {
        id: "POL002",
        title: "version missing or not STSv1",
        severity: Severity::Error,
        help: "`version: STSv1` is required, exactly so.",
        rfc: "RFC 8461 §3.2",
    },
    Rule {
        id: "POL003",
        title: "mode missing or not testing, enforce or none",
        severity: Severity::Error,
        help: "`mode` is required and must be exactly `testing`, `enforce` or `none`.",
        rfc: "RFC 8461 §3.2, §5",
    },
    Rule {
        id: "POL004",
        title: "max_age missing, malformed or above one year",
        severity: Severity::Error,
        help: "`max_age` is required: 1 to 10 digits, at most 31557600 (one year).",
        rfc: "RFC 8461 §3.2, erratum 7282",
    },
    Rule {
        id: "POL005",
        title: "testing or enforce policy without mx lines",
        severity: Severity::Error,
        help: "A `testing` or `enforce` policy needs at least one `mx:` line naming your MX hosts.",
        rfc: "RFC 8461 §3.2 (ABNF)",
    },
    Rule {
        id: "POL006",
        title: "invalid mx pattern",
        severity: Severity::Error,
        help: "An `mx` value must be a host name or `*.` plus a domain: no trailing dot, port, IP address, URL or non-ASCII (use A-labels).",
        rfc: "RFC 8461 §3.2, §4.1",
    },
    Rule {
        id: "POL007",
        title: "line terminator or control character outside the grammar",
        severity: Severity::Error,
        help: "Lines must end in LF or CRLF; bare CR, U+2028 and control characters break parsers.",
        rfc: "RFC 8461 §3.2 (ABNF)",
    },
    Rule {
        id: "POL008",
        title: "whitespace or case error in a key, invisible characters in a value",
        severity: Severity::Error,
        help: "Keys are lower-case, start at the beginning of the line and are followed directly by `:`; values must not contain invisible or non-breaking spaces.",
        rfc: "RFC 8461 §3.2 (ABNF)",
    },
    Rule {
        id: "POL009",
        title: "blank lines, comments or extra terminators",
        severity: Severity::Warning,
        help: "Blank lines, `#` comments and extra trailing newlines are outside the grammar; some senders reject the policy or misread the next key. Remove them.",
        rfc: "RFC 8461 §3.2 (ABNF)",
    },
    Rule {
        id: "POL010",
        title: "version, mode or max_age repeated",
        severity: Severity::Warning,
        help: "A field appears twice; senders disagree on which one wins (first or last), which can silently downgrade `enforce`. Keep one.",
        rfc: "RFC 8461 §3.2",
    },
    Rule {
        id: "POL011",
        title: "interoperability style",
        severity: Severity::Info,
        help: "Legal, but some tools and guides expect otherwise: CRLF line endings, `version` on the first line, each `mx` line once, lower-case host names.",
        rfc: "RFC 8461 §3.2, erratum 6253",
    },
    Rule {
        id: "POL012",
        title: "max_age too short",
        severity: Severity::Warning,
        help: "`max_age` is short: senders re-fetch often and a DNS or HTTPS hiccup leaves them without a policy. Use weeks (e.g. 1209600) once the policy is stable.",
        rfc: "RFC 8461 §3.2, §10.2",
    },
    Rule {
        id: "POL013",
        title: "mode none with a long max_age",
        severity: Severity::Warning,
        help: "`mode: none` is the opt-out step; pair it with a short `max_age` (about one day) so senders forget the old policy quickly.",
        rfc: "RFC 8461 §8.3",
    },
    Rule {
        id: "POL014",
        title: "mx wildcard too broad",
        severity: Severity::Error,
        help: "A wildcard this broad lets any host with a certificate under that name act as your MX. List your MX hosts or a narrower wildcard.",
        rfc: "RFC 8461 §4.1, §10.4",
    },
    Rule {
        id: "XCK001",
        title: "MX host not covered by the policy",
        severity: Severity::Error,
        help: "Every MX host must match an `mx` pattern, or senders that enforce the policy will not deliver to it. Add the host (or a one-label wildcard) to the policy, publish it, then bump the `_mta-sts` id.",
        rfc: "RFC 8461 §4, §4.1, §5",
    },
    Rule {
        id: "XCK002",
        title: "no MX or null MX with an active policy",
        severity: Severity::Error,
        help: "With no MX records, mail goes to the domain itself, so a pattern must match the bare domain; with a null MX, an MTA-STS policy makes no sense. Fix the MX records or the policy.",
        rfc: "RFC 8461 §4.1; RFC 5321 §5.1; RFC 7505",
    },
    Rule {
        id: "XCK003",
        title: "mx pattern matches no MX host",
        severity: Severity::Info,
        help: "A pattern matches none of the MX hosts; it only widens what senders accept. Remove it once no MX uses it.",
        rfc: "RFC 8461 §10.4",
    },
    Rule {
        id: "XCK004",
        title: "policy changed but the id did not",
        severity: Severity::Error,
        help: "Senders re-fetch the policy only when the _mta-sts id changes. Whenever the policy content changes, publish a new id (after the new policy is served), and never reuse an old id.",
        rfc: "RFC 8461 §3.1, §5.1, §8.1",
    },
    Rule {
        id: "XCK005",
        title: "id changed before the new policy is served",
        severity: Severity::Warning,
        help: "Senders that see a new _mta-sts id fetch the policy and cache what they get under that id. Publish the new policy first, check that the host serves it (CDN caches included), and only then change the id: two applies, or `depends_on` from the TXT record to the policy object (and any cache invalidation).",
        rfc: "RFC 8461 §8.1",
    },
    Rule {
        id: "XCK006",
        title: "new MX host not covered by the cached policy",
        severity: Severity::Warning,
        help: "Senders keep the policy they cached for up to its max_age. Before moving mail to a new MX host, add it to the policy, bump the id, and wait at least the old max_age; only then change the MX records.",
        rfc: "RFC 8461 §5.1, §8.1",
    },
    Rule {
        id: "XCK007",
        title: "MTA-STS removed without the none step",
        severity: Severity::Warning,
        help: "Removing MTA-STS safely: serve `mode: none` with a short max_age and a new id, wait for the largest max_age ever served to pass, and only then delete the record and the policy.",
        rfc: "RFC 8461 §3.1, §8.3, §10.2",
    },
    Rule {
        id: "XCK008",
        title: "enforce without a testing period",
        severity: Severity::Info,
        help: "Go to `enforce` only after running `mode: testing` with a TLSRPT record for about two weeks and reading the reports: an enforce policy that does not match your MX hosts and certificates makes senders refuse mail. From a plan this compares the policy's mode before and after (a new policy in enforce, or none to enforce); how long testing lasted needs the report history and is not checked offline.",
        rfc: "RFC 8461 §5, Appendix A",
    },
    Rule {
        id: "XCK009",
        title: "MX target is an IP address or a CNAME",
        severity: Severity::Warning,
        help: "MX targets must be host names (not IP addresses or CNAMEs): pattern matching and the certificate check use the MX name.",
        rfc: "RFC 8461 §4.1, §4.2; RFC 5321 §5.1",
    },
    Rule {
        id: "NET001",
        title: "DNS resolution of _mta-sts or the policy host fails",
        severity: Severity::Error,
        help: "Senders must resolve `_mta-sts.<domain>` (a lookup that fails, rather than answering NXDOMAIN or no records, leaves them unsure) and the policy host `mta-sts.<domain>` (A or AAAA, following CNAMEs). Fix the zone or the delegation, or remove a dangling CNAME.",
        rfc: "RFC 8461 §3.1, §3.2, §8.2",
    },
    Rule {
        id: "NET002",
        title: "policy host unreachable over HTTPS or TLS fails",
        severity: Severity::Error,
        help: "Senders fetch the policy over HTTPS on port 443 with SNI `mta-sts.<domain>` and TLS 1.2 or later. Make the host reachable there and serve that name on it.",
        rfc: "RFC 8461 §3.3, §7.1, §7.2",
    },
    Rule {
        id: "NET003",
        title: "policy host certificate invalid, untrusted or expiring",
        severity: Severity::Error,
        help: "The policy host's certificate must be valid for `mta-sts.<domain>` (a SAN DNS name; a wildcard only as the left-most label), chain to a public root and not be expired. With a CNAME to a provider, the provider must serve a certificate for your name. A warning comes 14 days before it expires: renew it (check the ACME renewal).",
        rfc: "RFC 8461 §3.3, §8.2",
    },
    Rule {
        id: "NET004",
        title: "policy not served with status 200",
        severity: Severity::Error,
        help: "The policy must be served with status 200 at `/.well-known/mta-sts.txt`. Senders do not follow redirects: serve the file itself, not a 3xx to another place.",
        rfc: "RFC 8461 §3.3",
    },
    Rule {
        id: "NET005",
        title: "policy not served as text/plain",
        severity: Severity::Error,
        help: "Serve the policy as `Content-Type: text/plain` (optionally with `charset=utf-8`); some senders reject other media types.",
        rfc: "RFC 8461 §3.2",
    },
    Rule {
        id: "NET006",
        title: "policy response hygiene (charset, size, speed, caching)",
        severity: Severity::Warning,
        help: "Response hygiene: keep the body well under the 64 KiB senders read, serve it as utf-8 or us-ascii, answer quickly, and keep shared cache lifetimes short so a new policy is seen.",
        rfc: "RFC 8461 §3.2, §3.3, §8.2",
    },
    Rule {
        id: "NET007",
        title: "MX host without STARTTLS, with old TLS or requiring SNI",
        severity: Severity::Error,
        help: "Every MX host must offer STARTTLS in its EHLO reply, negotiate TLS 1.2 or later and not require SNI; in enforce mode senders refuse an MX without STARTTLS. Enable STARTTLS on port 25 with a current TLS configuration.",
        rfc: "RFC 8461 §4, §7.1, §7.2",
    },
    Rule {
        id: "NET008",
        title: "MX certificate invalid, untrusted or expiring",
        severity: Severity::Error,
        help: "Each MX host's certificate must be valid for the MX host name as a SAN DNS name (a CN alone does not count; a wildcard only as the left-most label), chain to a public root and not be expired; in enforce mode senders refuse the MX otherwise. A warning comes 14 days before it expires.",
        rfc: "RFC 8461 §4.2",
    },
    Rule {
        id: "NET009",
        title: "report destination cannot receive reports",
        severity: Severity::Warning,
        help: "Report destinations must be able to receive reports: a mailto: domain needs MX records (or an address) and no null MX; an https: endpoint must accept a POST with a 2xx status. Fix the destination or the rua list.",
        rfc: "RFC 8460 §3, §5.3, §5.4",
    },
    Rule {
        id: "DAN001",
        title: "malformed TLSA record",
        severity: Severity::Error,
        help: "A TLSA record must be `USAGE SELECTOR MATCHING HEX` with usage 2 or 3 (0-3 and 255 are assigned), selector 0 or 1, matching type 0, 1 or 2, and a SHA-256 (32 bytes) or SHA-512 (64 bytes) digest of the right length. Senders ignore a record they cannot parse; with no usable record left, DANE senders report `tlsa-invalid`.",
        rfc: "RFC 6698 §2, RFC 7671 §5",
    },
    Rule {
        id: "DAN002",
        title: "TLSA usage not for SMTP (PKIX-TA or PKIX-EE)",
        severity: Severity::Warning,
        help: "SMTP senders treat usages 0 (PKIX-TA) and 1 (PKIX-EE) as unusable: there is no web PKI to check an MX host against. Publish 3 1 1 (the server key) or 2 1 1 (the issuing CA's key) instead.",
        rfc: "RFC 7672 §3.1.3",
    },
    Rule {
        id: "DAN003",
        title: "a single TLSA record: no rollover",
        severity: Severity::Warning,
        help: "An MX host with one usable TLSA record fails every DANE sender (`tlsa-invalid`) the moment its key or certificate changes. Publish the next key's record beside the current one before each rollover (current + next), or a 2 1 1 record of the issuing CA beside the 3 1 1.",
        rfc: "RFC 7671 §8.1, §8.4",
    },
    Rule {
        id: "PLN001",
        title: "MTA-STS part not attributed to a domain",
        severity: Severity::Warning,
        help: "A planned mta-sts.txt object or `_mta-sts`/`_smtp._tls` record could not be tied to its domain, so nothing about it was checked: a policy file whose bucket or path has no `mta-sts.<domain>` component while the plan has not exactly one domain with an _mta-sts record, or a record whose zone is managed outside the plan (its zone id names no zone resource, and its records do not show the zone's name). Map it in the config file: `[[policy]]` with `address` (or `location`) and `domain`, `[[zone]]` with `id` and `domain`, or `--zone ID=DOMAIN`.",
        rfc: "",
    },
    Rule {
        id: "PLN002",
        title: "value known only after apply",
        severity: Severity::Info,
        help: "A value is known only after apply (a computed record name, zone or value, or a policy body), so the checks that need it were not run on it. Make the value a literal known at plan time, or check the applied value with `stsguard lint --domain`.",
        rfc: "",
    },
    Rule {
        id: "PLN003",
        title: "value not in the plan",
        severity: Severity::Info,
        help: "The plan does not contain a value the checks need: a hosted zone managed elsewhere (the record name is then taken as written) or a policy body read from a file at apply time. Check that part separately, e.g. `stsguard lint --domain D --policy FILE`.",
        rfc: "",
    },
    Rule {
        id: "PLN004",
        title: "check skipped for lack of data",
        severity: Severity::Info,
        help: "A check was skipped because the plan does not manage what it needs: the MX records, the _mta-sts or _smtp._tls record, the policy file, or anything at all for a domain listed in the config. Records managed elsewhere are not guessed; check them with `stsguard lint --domain`.",
        rfc: "",
    },
    Rule {
        id: "PLN005",
        title: "plan value read leniently",
        severity: Severity::Info,
        help: "The plan reader applied a tolerance: an unknown plan action read as no-op, a TXT value with unbalanced quotes read as one string, invalid base64, values beyond a cap, or notes left out. Check the value the message names.",
        rfc: "",
    },
];

/// The rule with ID `id` (exact, upper case), if the catalogue has it.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The rule families, by ID prefix, in catalogue order.
pub const FAMILIES: [(&str, &str); 7] = [
    ("STS", "`_mta-sts` TXT record"),
    ("TLR", "`_smtp._tls` TLSRPT record"),
    ("POL", "Policy file (`mta-sts.txt`)"),
    ("XCK", "Cross-checks (records, policy, MX set, plan history)"),
    ("NET", "Live checks (DNS, HTTPS, SMTP)"),
    ("DAN", "DANE for SMTP: TLSA records (RFC 7672)"),
    ("PLN", "What a Terraform plan cannot tell"),
];

/// The catalogue as a Markdown page (the repository's `docs/rules.md`): one
/// table per family, each rule with its default severity, title, help and RFC
/// sections.
pub fn markdown() -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let cell = |s: &str| s.replace('|', "\\|");
    o.push_str(
        "# Lint rules\n\n\
         Generated from the rule catalogue (`shared/src/lint/catalogue.rs`); \
         `stsguard explain RULE` prints the same text. IDs are stable: a new rule gets a new ID, \
         an ID is never reused. The severity is the default; where a rule says so (XCK001 by the \
         policy's mode, for example) a finding can carry another, and `[rules]` in the \
         configuration file overrides it.\n",
    );
    for (prefix, name) in FAMILIES {
        let _ = write!(
            o,
            "\n## {prefix}: {name}\n\n| ID | Severity | Rule | What to do | RFC |\n|---|---|---|---|---|\n"
        );
        for r in RULES.iter().filter(|r| r.id.starts_with(prefix)) {
            let sev = match r.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let _ = writeln!(
                o,
                "| {} | {sev} | {} | {} | {} |",
                r.id,
                cell(r.title),
                cell(r.help),
                cell(r.rfc)
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_documented() {
        for (i, r) in RULES.iter().enumerate() {
            assert!(
                r.id.len() == 6
                    && r.id[..3].bytes().all(|b| b.is_ascii_uppercase())
                    && r.id[3..].bytes().all(|b| b.is_ascii_digit()),
                "{}",
                r.id
            );
            assert!(RULES[..i].iter().all(|o| o.id != r.id), "{} twice", r.id);
            assert!(!r.title.is_empty() && !r.help.is_empty(), "{}", r.id);
            assert_eq!(r.rfc.is_empty(), r.id.starts_with("PLN"), "{}: {:?}", r.id, r.rfc);
            assert!(
                r.rfc.is_empty() || r.rfc.starts_with("RFC "),
                "{}: {}",
                r.id,
                r.rfc
            );
            assert_eq!(rule(r.id), Some(r));
        }
        assert_eq!(RULES.len(), 58);
        assert_eq!(rule("XCK001").map(|r| r.severity), Some(Severity::Error));
        assert_eq!(rule("PLN004").map(|r| r.severity), Some(Severity::Info));
        assert!(rule("xck001").is_none() && rule("NOPE01").is_none());
    }
}
