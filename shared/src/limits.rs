//! Caps on everything that comes from outside.
//!
//! Report mail is sent by strangers. Every size and count the ingest pipeline
//! reads is bounded by one of these caps; exceeding one is a permanent failure
//! with reason `too-large` (or `bad-json` for nesting), never a crash and never an
//! unbounded allocation.

/// Caps for the ingest pipeline. [`Limits::default`] holds the documented
/// defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Raw mail (or bare payload file) size. Default 40 MiB.
    pub max_mail_bytes: usize,
    /// Decompressed size of one report (gzip or zip member), and the size of one
    /// uncompressed report. Default 20 MiB.
    pub max_report_bytes: usize,
    /// Members in one zip archive. Default 32.
    pub max_zip_members: usize,
    /// Report payloads taken from one mail. Default 64.
    pub max_reports_per_mail: usize,
    /// JSON nesting depth. The deepest legitimate report nests 5 levels. Default 32.
    pub max_json_depth: usize,
    /// Items in any one JSON array. Default 100,000.
    pub max_json_array_items: usize,
    /// Policies in one report. Default 1,000.
    pub max_policies: usize,
    /// Failure details in one report, over all policies. Default 100,000.
    pub max_failure_details: usize,
    /// Bytes in one string field; longer strings are cut with a warning. Default 4 KiB.
    pub max_string_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_mail_bytes: 40 << 20,
            max_report_bytes: 20 << 20,
            max_zip_members: 32,
            max_reports_per_mail: 64,
            max_json_depth: 32,
            max_json_array_items: 100_000,
            max_policies: 1_000,
            max_failure_details: 100_000,
            max_string_bytes: 4096,
        }
    }
}
