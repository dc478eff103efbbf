//! Storage keys. Report text never becomes a key path unescaped.
//!
//! Layout (prefixes configurable, Hive-style partitions so Athena/Glue can query
//! the reports directly):
//!
//! ```text
//! reports/v1/day=YYYY-MM-DD/domain=<domain>/<id>.json
//! rejected/day=YYYY-MM-DD/<sha256-of-raw>.json
//! rejected/day=YYYY-MM-DD/conflict-<id>-<content-sha256>.json
//! ```

/// Key prefixes of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// Prefix of normalized reports. Default `reports/v1/`.
    pub reports: String,
    /// Prefix of rejection records. Default `rejected/`.
    pub rejected: String,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            reports: "reports/v1/".into(),
            rejected: "rejected/".into(),
        }
    }
}

impl Layout {
    /// Key of a normalized report. `day` and `id` are produced by this crate
    /// (a date and hex digits); `domain` comes from the report and is escaped.
    pub fn report_key(&self, day: &str, domain: &str, id: &str) -> String {
        format!(
            "{}day={day}/domain={}/{id}.json",
            self.reports,
            escape_component(domain)
        )
    }

    /// Prefix of one day's normalized reports.
    pub fn report_day_prefix(&self, day: &str) -> String {
        format!("{}day={day}/", self.reports)
    }

    /// Key of a rejection record, from the SHA-256 (hex) of the raw input.
    pub fn rejected_key(&self, day: &str, raw_sha256: &str) -> String {
        format!("{}day={day}/{raw_sha256}.json", self.rejected)
    }

    /// Key of a conflict record: report `id` (hex) delivered again with the
    /// content whose SHA-256 (hex) is `content_sha256`, on the report's `day`.
    /// The same conflicting delivery always lands on the same key.
    pub fn conflict_key(&self, day: &str, id: &str, content_sha256: &str) -> String {
        format!("{}day={day}/conflict-{id}-{content_sha256}.json", self.rejected)
    }
}

/// Escapes a string for use as one key segment: bytes outside
/// `[a-z0-9._-]` are percent-encoded (upper-case hex), a leading `.` too, so the
/// result never contains `/`, never is `.` or `..`, and never starts with a dot.
/// Valid lower-case domain names pass through unchanged. Over-long input is cut
/// to 200 bytes before escaping.
pub fn escape_component(s: &str) -> String {
    let bytes = &s.as_bytes()[..s.len().min(200)];
    if bytes.is_empty() {
        return "%00".into();
    }
    let mut out = String::with_capacity(bytes.len());
    for (i, &b) in bytes.iter().enumerate() {
        let plain =
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || (b == b'.' && i > 0);
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_pass_and_hostile_text_is_escaped() {
        assert_eq!(escape_component("example.com"), "example.com");
        assert_eq!(escape_component("_unknown"), "_unknown");
        assert_eq!(escape_component("../../x"), "%2E.%2F..%2Fx");
        assert_eq!(escape_component(".."), "%2E.");
        assert_eq!(escape_component("a/b"), "a%2Fb");
        assert_eq!(escape_component("Ex"), "%45x");
        assert_eq!(escape_component(""), "%00");
        for hostile in ["..", ".", "../etc/passwd", "a\\b", "x\r\ny", "%2e%2e"] {
            let e = escape_component(hostile);
            assert!(
                !e.contains('/') && !e.contains('\\') && e != "." && e != ".." && !e.starts_with('.'),
                "{e}"
            );
        }
    }

    #[test]
    fn layout_keys() {
        let l = Layout::default();
        assert_eq!(
            l.report_key("2024-11-08", "eden.one", "abc"),
            "reports/v1/day=2024-11-08/domain=eden.one/abc.json"
        );
        assert_eq!(
            l.rejected_key("2024-11-08", "ff"),
            "rejected/day=2024-11-08/ff.json"
        );
    }
}
