//! The MTA-STS policy a reporter quotes in `policy-string`, summarized.
//!
//! Reporters quote the policy they fetched, one line per string. This reads the
//! three facts the digest needs (mode, max_age, mx patterns) leniently: it is a
//! summary of what the sender saw, not a validation of the policy (the linter's
//! strict parser does that).

use serde::{Deserialize, Serialize};

/// Mode, max_age and mx patterns of a quoted MTA-STS policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsSummary {
    /// `enforce`, `testing`, `none`, or what the sender quoted.
    pub mode: Option<String>,
    /// `max_age` in seconds.
    pub max_age: Option<u64>,
    /// `mx` patterns, lower case, without a trailing dot.
    pub mx: Vec<String>,
}

/// Summarizes quoted policy lines. The first `mode` and `max_age` win (RFC 8461
/// §3.2); every `mx` counts. Strings holding several lines are split.
pub fn summarize<S: AsRef<str>>(lines: &[S]) -> StsSummary {
    let mut out = StsSummary::default();
    for line in lines.iter().flat_map(|s| s.as_ref().lines()) {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "mode" if out.mode.is_none() => out.mode = Some(value.to_owned()),
            "max_age" if out.max_age.is_none() => out.max_age = value.parse().ok(),
            "mx" if !value.is_empty() => out.mx.push(crate::names::normalize(value)),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarizes_quoted_policy_lines() {
        let s = summarize(&[
            "version: STSv1",
            "mode: enforce",
            "mx: MX1.Example.com.",
            "mx: *.example.net",
            "max_age: 604800",
            "mode: none",
        ]);
        assert_eq!(s.mode.as_deref(), Some("enforce"));
        assert_eq!(s.max_age, Some(604800));
        assert_eq!(s.mx, vec!["mx1.example.com", "*.example.net"]);
    }

    #[test]
    fn one_string_with_crlf_lines() {
        let s = summarize(&["version: STSv1\r\nmode: testing\r\nmx: a.example\r\nmax_age: 86400\r\n"]);
        assert_eq!(s.mode.as_deref(), Some("testing"));
        assert_eq!(s.max_age, Some(86400));
        assert_eq!(s.mx, vec!["a.example"]);
    }
}
