//! Lint findings: a rule ID from the catalogue, a severity and a one-line message.
//!
//! Findings are data, never errors. The parsers in [`crate::records`] and
//! [`crate::policy`] return them beside what they parsed; the linter turns them
//! into [`crate::lint::Finding`]s with the domain, the plan address and the
//! catalogue's help.

use serde::{Deserialize, Serialize};

/// How bad a finding is. Ordered so that `Error > Warning > Info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Best practice.
    Info,
    /// Breaks a SHOULD, or is a known interoperability hazard.
    Warning,
    /// Breaks a MUST, or makes senders ignore or misapply the policy.
    Error,
}

/// One finding of one lint rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// The stable rule ID, e.g. `"STS004"`.
    pub rule: &'static str,
    /// How bad it is.
    pub severity: Severity,
    /// One line naming the offending value.
    pub message: String,
}

impl Diagnostic {
    /// A finding of `rule` with `severity`.
    pub fn new(rule: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            rule,
            severity,
            message: message.into(),
        }
    }
}

/// Findings of one rule kept before the rest are folded into one summary line.
const MAX_PER_RULE: usize = 16;

/// Collects diagnostics, keeping at most [`MAX_PER_RULE`] per rule so that a
/// hostile input cannot make the list grow with its size.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    list: Vec<Diagnostic>,
    counts: Vec<(&'static str, usize)>,
}

impl Sink {
    /// Records a finding.
    pub(crate) fn push(&mut self, rule: &'static str, severity: Severity, message: impl Into<String>) {
        let count = match self.counts.iter_mut().find(|(r, _)| *r == rule) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.counts.push((rule, 1));
                1
            }
        };
        if count <= MAX_PER_RULE {
            self.list.push(Diagnostic::new(rule, severity, message));
        } else if count == MAX_PER_RULE + 1 {
            self.list.push(Diagnostic::new(
                rule,
                severity,
                format!("further {rule} findings not listed (more than {MAX_PER_RULE})"),
            ));
        }
    }

    /// Shorthand for an error.
    pub(crate) fn error(&mut self, rule: &'static str, message: impl Into<String>) {
        self.push(rule, Severity::Error, message);
    }

    /// Shorthand for a warning.
    pub(crate) fn warn(&mut self, rule: &'static str, message: impl Into<String>) {
        self.push(rule, Severity::Warning, message);
    }

    /// Shorthand for an info finding.
    pub(crate) fn info(&mut self, rule: &'static str, message: impl Into<String>) {
        self.push(rule, Severity::Info, message);
    }

    /// Whether any error has been recorded.
    pub(crate) fn has_error(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }

    /// The findings.
    pub(crate) fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }
}
