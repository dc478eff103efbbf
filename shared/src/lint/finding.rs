//! A lint finding: a catalogued rule, a severity, the policy domain, a one-line
//! message and, for plans, the resource address. Findings quote names, hosts and
//! values from plans, records and live answers: they are made inert when they
//! are built, so no input can move a terminal's cursor or start a new line in an
//! annotation.

use serde::Serialize;

use super::catalogue::{rule, Rule};
use crate::diag::{Diagnostic, Severity};
use crate::text::{escaped, UNCUT};

/// One finding, as the `json` output writes it (with the catalogue's `help` and
/// `rfc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Rule ID from the catalogue, e.g. `XCK001`.
    pub rule: &'static str,
    /// Severity: the catalogue's default unless the rule says otherwise.
    pub severity: Severity,
    /// The policy domain; empty when the finding concerns no single domain.
    pub domain: String,
    /// One line naming the offending value.
    pub message: String,
    /// The plan address of the resource that caused it, when linting a plan.
    pub address: Option<String>,
}

impl Finding {
    /// A finding of `rule` for `domain` at the rule's default severity. The
    /// domain and the message are made inert (control characters escaped).
    pub fn new(rule: &'static str, domain: impl AsRef<str>, message: impl AsRef<str>) -> Self {
        let severity = match super::catalogue::rule(rule) {
            Some(r) => r.severity,
            None => {
                debug_assert!(false, "rule {rule} is not in the catalogue");
                Severity::Warning
            }
        };
        Finding {
            rule,
            severity,
            domain: escaped(domain.as_ref(), UNCUT),
            message: escaped(message.as_ref(), UNCUT),
            address: None,
        }
    }

    /// A grammar finding of [`crate::records`] or [`crate::policy`] for `domain`.
    pub fn from_diagnostic(d: Diagnostic, domain: &str) -> Self {
        Finding::new(d.rule, domain, d.message).with_severity(d.severity)
    }

    /// The same finding at `severity` (for rules whose severity depends on the
    /// case, such as the policy's mode).
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The same finding at a plan's resource `address` (made inert), or at none.
    #[must_use]
    pub fn with_address(mut self, address: Option<impl AsRef<str>>) -> Self {
        self.address = address.map(|a| escaped(a.as_ref(), UNCUT));
        self
    }

    /// The rule's catalogue entry.
    pub fn catalogued(&self) -> Option<&'static Rule> {
        rule(self.rule)
    }

    /// What the rule checks and how to fix it.
    pub fn help(&self) -> &'static str {
        self.catalogued().map_or("See the rule catalogue.", |r| r.help)
    }

    /// Where the RFCs say it; empty for the PLN family.
    pub fn rfc(&self) -> &'static str {
        self.catalogued().map_or("", |r| r.rfc)
    }
}

impl Serialize for Finding {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let rfc = self.rfc();
        let mut s = serializer.serialize_struct("Finding", 7)?;
        s.serialize_field("rule", self.rule)?;
        s.serialize_field("severity", &self.severity)?;
        s.serialize_field("domain", &self.domain)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("address", &self.address)?;
        s.serialize_field("help", self.help())?;
        if rfc.is_empty() {
            s.skip_field("rfc")?;
        } else {
            s.serialize_field("rfc", rfc)?;
        }
        s.end()
    }
}

/// Orders findings for output: by domain (findings without one last), then
/// severity (errors first), rule and address. The sort is stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.domain.is_empty(), &a.domain)
            .cmp(&(b.domain.is_empty(), &b.domain))
            .then(b.severity.cmp(&a.severity))
            .then(a.rule.cmp(b.rule))
            .then(a.address.cmp(&b.address))
    });
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn new_takes_the_catalogue_severity_and_makes_text_inert() {
        let f = Finding::new("XCK001", "example.com", "evil\u{1b}[2J\nhost");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.message, "evil\\u{1b}[2J\\u{a}host");
        let f = f.with_severity(Severity::Warning).with_address(Some("a\nb"));
        assert_eq!(
            (f.severity, f.address.as_deref()),
            (Severity::Warning, Some("a\\u{a}b"))
        );
        assert!(f.help().starts_with("Every MX host"));
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["rfc"], "RFC 8461 §4, §4.1, §5");
        assert_eq!(json["help"], f.help());
        let pln = Finding::new("PLN004", "", "");
        assert_eq!(pln.severity, Severity::Info);
        assert!(serde_json::to_value(&pln).unwrap().get("rfc").is_none());
    }
}
