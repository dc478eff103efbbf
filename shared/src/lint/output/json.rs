//! The `json` format: the list of findings, each with its rule, severity,
//! domain, message, address, help and RFC sections.

use crate::lint::Finding;

/// The findings as a pretty-printed JSON array, without a trailing newline.
pub fn to_json(findings: &[Finding]) -> String {
    // Serializing plain strings and enums into a String cannot fail.
    serde_json::to_string_pretty(findings).unwrap_or_else(|_| "[]".to_owned())
}
