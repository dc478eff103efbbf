//! The lint configuration file (`stsguard lint --config stsguard.toml`): the
//! domains to lint, policy files mapped to their domain, rule severity overrides
//! and ignores.
//!
//! Parsing and applying are pure: [`LintConfig::parse`] takes the file's text
//! (the CLI reads it), and the result is applied to a plan's policies
//! ([`LintConfig::attribute`]) and to findings ([`LintConfig::apply`]). The file
//! comes from whoever wrote the repository, so it is read strictly: unknown keys,
//! unknown rule IDs and unknown severities are errors that name the key and its
//! line, and sizes and counts are capped.
//!
//! ```toml
//! # Lint only these policy domains (exact names); a listed domain the plan says
//! # nothing about gets a PLN004 finding.
//! domains = ["example.com", "example.org"]
//!
//! # Severity per rule: "error", "warning", "info" or "off".
//! [rules]
//! STS009 = "error"
//! POL011 = "off"
//!
//! # A policy file the plan reader cannot attribute, by resource address
//! # (instance keys included) or by location (BUCKET/KEY, the path for local_file).
//! [[policy]]
//! address = "aws_s3_bucket_object.org_policy"
//! domain = "example.org"
//!
//! # Findings to drop: a rule ID (or "*" with a domain or address), optionally
//! # only for a domain and/or a resource address (a trailing * matches a prefix).
//! [[ignore]]
//! rule = "XCK003"
//! domain = "example.com"
//! reason = "old MX kept until the migration ends"
//! ```

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::catalogue::{rule, RULES};
use super::{sort_findings, Finding};
use crate::diag::Severity;
use crate::plan::PlannedPolicy;

/// The largest configuration file accepted, in bytes (1 MiB).
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// Entries accepted in each list (`domains`, `[[policy]]`, `[[ignore]]`).
pub const MAX_ENTRIES: usize = 10_000;
/// The longest string accepted as a domain, address, location or reason.
const MAX_STRING: usize = 4096;

/// Why a configuration file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{message}", position(*.line, *.column), if key.is_empty() { String::new() } else { format!("{key}: ") })]
pub struct LintConfigError {
    /// 1-based line of the offending key or value, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// The key, as a dotted path where known (`rules.STS999`, `policy[2].domain`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

/// What a `[rules]` entry does to a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Override {
    /// Its findings get this severity.
    Level(Severity),
    /// Its findings are dropped.
    Off,
}

/// A `[[policy]]` entry: a policy file attributed to a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyMapping {
    /// Which policy file.
    pub select: PolicySelector,
    /// Its policy domain (lower case, no trailing dot).
    pub domain: String,
}

/// How a `[[policy]]` entry names its policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySelector {
    /// The resource instance address, exactly.
    Address(String),
    /// The location as the plan reader gives it: `BUCKET/KEY`,
    /// `ACCOUNT/CONTAINER/NAME` or the `local_file` path, exactly.
    Location(String),
}

/// A `[[zone]]` entry (or `--zone ID=DOMAIN`): the name of a hosted zone that
/// records refer to by id and that the plan does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneMapping {
    /// The zone id as records write it (a Route 53 id with or without
    /// `/hostedzone/`, a Cloudflare zone id).
    pub id: String,
    /// The zone's name (lower case, no trailing dot).
    pub domain: String,
    /// Where it was given: 1-based line and column in the file, when known.
    pub line: Option<usize>,
    /// Column of the entry, when known.
    pub column: Option<usize>,
    /// The key (`zone[0]`) or the flag (`--zone`) that gave it.
    pub key: String,
}

impl ZoneMapping {
    /// An error about this entry, where it was given.
    fn error(&self, message: String) -> LintConfigError {
        LintConfigError {
            line: self.line,
            column: self.column,
            key: self.key.clone(),
            message,
        }
    }
}

/// An `[[ignore]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// The rule ID, or `None` for any rule (`"*"`).
    pub rule: Option<&'static str>,
    /// Only findings for this domain.
    pub domain: Option<String>,
    /// Only findings at this address; a trailing `*` matches a prefix.
    pub address: Option<String>,
    /// Why (documentation only).
    pub reason: Option<String>,
}

impl Ignore {
    /// Whether this entry drops `f`.
    pub fn matches(&self, f: &Finding) -> bool {
        self.rule.is_none_or(|r| r == f.rule)
            && self.domain.as_ref().is_none_or(|d| *d == f.domain)
            && self.address.as_ref().is_none_or(|pattern| {
                let Some(a) = f.address.as_deref() else {
                    return false;
                };
                match pattern.strip_suffix('*') {
                    Some(prefix) => a.starts_with(prefix),
                    None => a == pattern,
                }
            })
    }
}

/// A parsed configuration. The default changes nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LintConfig {
    /// The policy domains to lint (lower case, no trailing dot); `None` lints
    /// every domain of the plan.
    pub domains: Option<Vec<String>>,
    /// Policy files attributed to a domain, in file order.
    pub policies: Vec<PolicyMapping>,
    /// Severity overrides by rule ID.
    pub rules: BTreeMap<&'static str, Override>,
    /// Findings to drop.
    pub ignores: Vec<Ignore>,
    /// Zones managed outside the plan, by id.
    pub zones: Vec<ZoneMapping>,
    /// The `[alerts]` thresholds for `stsguard alerts` (the defaults when
    /// the table is absent; its expected domains are `domains` above).
    pub alerts: crate::alerts::AlertConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    domains: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    policy: Option<Spanned<Vec<Spanned<RawPolicy>>>>,
    #[serde(default)]
    ignore: Option<Spanned<Vec<Spanned<RawIgnore>>>>,
    #[serde(default)]
    zone: Option<Spanned<Vec<Spanned<RawZone>>>>,
    #[serde(default)]
    alerts: Option<Spanned<RawAlerts>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    testing_share_percent: Option<Spanned<f64>>,
    failure_jump_points: Option<Spanned<f64>>,
    silence_days: Option<Spanned<i64>>,
    reporter_min_days: Option<Spanned<i64>>,
    remind_after_hours: Option<Spanned<i64>>,
    min_interval_minutes: Option<Spanned<i64>>,
    max_messages_per_run: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawZone {
    id: Spanned<String>,
    domain: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    address: Option<Spanned<String>>,
    location: Option<Spanned<String>>,
    domain: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    rule: Spanned<String>,
    domain: Option<Spanned<String>>,
    address: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
}

/// Builds errors that point into the text.
struct At<'t>(&'t str);

impl At<'_> {
    /// The `[alerts]` table, each value within its range.
    fn alerts(&self, raw: &RawAlerts) -> Result<crate::alerts::AlertConfig, LintConfigError> {
        let mut c = crate::alerts::AlertConfig::default();
        let float = |v: &Option<Spanned<f64>>, key: &str, lo: f64, hi: f64, into: &mut f64| {
            if let Some(v) = v {
                let x = *v.get_ref();
                if !(lo..=hi).contains(&x) {
                    return Err(self.err(
                        v.span(),
                        format!("alerts.{key}"),
                        format!("expected a number from {lo} to {hi}"),
                    ));
                }
                *into = x;
            }
            Ok(())
        };
        float(
            &raw.testing_share_percent,
            "testing_share_percent",
            0.0,
            100.0,
            &mut c.testing_share_percent,
        )?;
        float(
            &raw.failure_jump_points,
            "failure_jump_points",
            0.0,
            100.0,
            &mut c.failure_jump_points,
        )?;
        let whole =
            |v: &Option<Spanned<i64>>, key: &str, lo: i64, hi: i64| -> Result<Option<i64>, LintConfigError> {
                match v {
                    None => Ok(None),
                    Some(v) if (lo..=hi).contains(v.get_ref()) => Ok(Some(*v.get_ref())),
                    Some(v) => Err(self.err(
                        v.span(),
                        format!("alerts.{key}"),
                        format!("expected a whole number from {lo} to {hi}"),
                    )),
                }
            };
        let narrow = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(n) = whole(&raw.silence_days, "silence_days", 1, 14)? {
            c.silence_days = narrow(n);
        }
        if let Some(n) = whole(&raw.reporter_min_days, "reporter_min_days", 1, 14)? {
            c.reporter_min_days = narrow(n);
        }
        if let Some(n) = whole(&raw.remind_after_hours, "remind_after_hours", 1, 24 * 365)? {
            c.remind_after_hours = narrow(n);
        }
        if let Some(n) = whole(&raw.min_interval_minutes, "min_interval_minutes", 0, 24 * 60)? {
            c.min_interval_minutes = narrow(n);
        }
        if let Some(n) = whole(&raw.max_messages_per_run, "max_messages_per_run", 1, 1000)? {
            c.max_messages_per_run = usize::try_from(n).unwrap_or(1);
        }
        Ok(c)
    }

    fn err(&self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) -> LintConfigError {
        let start = span.start.min(self.0.len());
        let before = self.0.get(..start).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        LintConfigError {
            line: Some(line),
            column: Some(column),
            key: key.into(),
            message: message.into(),
        }
    }

    fn count<T>(&self, list: &Spanned<Vec<T>>, key: &str) -> Result<(), LintConfigError> {
        if list.get_ref().len() > MAX_ENTRIES {
            return Err(self.err(
                list.span(),
                key,
                format!(
                    "{} entries, more than the {MAX_ENTRIES} accepted",
                    list.get_ref().len()
                ),
            ));
        }
        Ok(())
    }

    fn string(&self, s: &Spanned<String>, key: &str) -> Result<String, LintConfigError> {
        let v = s.get_ref();
        if v.trim().is_empty() {
            return Err(self.err(s.span(), key, "must not be empty"));
        }
        if v.len() > MAX_STRING {
            return Err(self.err(
                s.span(),
                key,
                format!("{} bytes, longer than the {MAX_STRING} accepted", v.len()),
            ));
        }
        if v.chars().any(char::is_control) {
            return Err(self.err(s.span(), key, "must not contain control characters"));
        }
        Ok(v.clone())
    }

    fn domain(&self, s: &Spanned<String>, key: &str) -> Result<String, LintConfigError> {
        let v = self.string(s, key)?;
        let d = crate::names::normalize(&v);
        if d.is_empty() || d.contains(char::is_whitespace) || d.contains(['/', '*', '@', ':']) {
            return Err(self.err(
                s.span(),
                key,
                format!("{v:?} is not a domain name (write the policy domain, e.g. \"example.com\")"),
            ));
        }
        Ok(d)
    }

    fn rule(&self, s: &Spanned<String>, key: &str) -> Result<&'static str, LintConfigError> {
        let id = s.get_ref().trim().to_ascii_uppercase();
        rule(&id).map(|r| r.id).ok_or_else(|| {
            let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
            self.err(
                s.span(),
                key,
                format!(
                    "unknown rule ID {:?} (this version knows {}; `stsguard explain all` lists them)",
                    s.get_ref(),
                    known.join(", ")
                ),
            )
        })
    }
}

impl LintConfig {
    /// Parses a configuration file's text.
    ///
    /// # Errors
    ///
    /// [`LintConfigError`] naming the key and its line: TOML syntax, unknown keys,
    /// wrong types, unknown rule IDs or severities, a `[[policy]]` without
    /// exactly one of `address` and `location`, an `[[ignore]]` of every rule
    /// with neither `domain` nor `address`, a text over [`MAX_CONFIG_BYTES`] or a
    /// list over [`MAX_ENTRIES`].
    pub fn parse(text: &str) -> Result<LintConfig, LintConfigError> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(LintConfigError {
                line: None,
                column: None,
                key: String::new(),
                message: format!(
                    "the file is {} bytes, over the cap of {MAX_CONFIG_BYTES} bytes",
                    text.len()
                ),
            });
        }
        let at = At(text);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            let shown = text.get(span.clone()).unwrap_or_default().trim();
            let key = if !shown.is_empty() && shown.len() <= 80 && !shown.contains('\n') {
                shown.trim_matches('"').to_owned()
            } else {
                String::new()
            };
            let message = e.message().trim().to_owned();
            if e.span().is_some() {
                at.err(span, key, message)
            } else {
                LintConfigError {
                    line: None,
                    column: None,
                    key,
                    message,
                }
            }
        })?;
        let mut config = LintConfig::default();
        if let Some(list) = &raw.domains {
            at.count(list, "domains")?;
            let mut domains = Vec::new();
            for (i, d) in list.get_ref().iter().enumerate() {
                domains.push(at.domain(d, &format!("domains[{i}]"))?);
            }
            domains.sort();
            domains.dedup();
            config.domains = Some(domains);
        }
        if raw.rules.len() > RULES.len() * 2 {
            return Err(LintConfigError {
                line: None,
                column: None,
                key: "rules".into(),
                message: "more entries than there are rules".into(),
            });
        }
        for (id, level) in &raw.rules {
            let key = format!("rules.{}", id.get_ref());
            let rule = at.rule(id, &key)?;
            let value = match level.get_ref().as_str() {
                "error" => Override::Level(Severity::Error),
                "warning" => Override::Level(Severity::Warning),
                "info" => Override::Level(Severity::Info),
                "off" => Override::Off,
                other => {
                    return Err(at.err(
                        level.span(),
                        key,
                        format!(
                            "unknown severity {other:?}: write \"error\", \"warning\", \"info\" or \"off\""
                        ),
                    ))
                }
            };
            if config.rules.insert(rule, value).is_some() {
                return Err(at.err(id.span(), key, "the rule is given twice"));
            }
        }
        let no_entries = Vec::new();
        if let Some(list) = &raw.policy {
            at.count(list, "policy")?;
        }
        let policies = raw.policy.as_ref().map_or(&no_entries, |l| l.get_ref());
        for (i, p) in policies.iter().enumerate() {
            let key = format!("policy[{i}]");
            let raw = p.get_ref();
            let select = match (&raw.address, &raw.location) {
                (Some(a), None) => PolicySelector::Address(at.string(a, &format!("{key}.address"))?),
                (None, Some(l)) => {
                    let l = at.string(l, &format!("{key}.location"))?;
                    PolicySelector::Location(l.trim_start_matches('/').to_owned())
                }
                _ => {
                    return Err(at.err(
                        p.span(),
                        key,
                        "give exactly one of `address` (the resource address) and `location` (BUCKET/KEY or the path)",
                    ))
                }
            };
            let domain = at.domain(&raw.domain, &format!("{key}.domain"))?;
            config.policies.push(PolicyMapping { select, domain });
        }
        let no_entries = Vec::new();
        if let Some(list) = &raw.ignore {
            at.count(list, "ignore")?;
        }
        let ignores = raw.ignore.as_ref().map_or(&no_entries, |l| l.get_ref());
        for (i, ig) in ignores.iter().enumerate() {
            let key = format!("ignore[{i}]");
            let raw = ig.get_ref();
            let rule = if raw.rule.get_ref().trim() == "*" {
                None
            } else {
                Some(at.rule(&raw.rule, &format!("{key}.rule"))?)
            };
            let domain = match &raw.domain {
                Some(d) => Some(at.domain(d, &format!("{key}.domain"))?),
                None => None,
            };
            let address = match &raw.address {
                Some(a) => Some(at.string(a, &format!("{key}.address"))?),
                None => None,
            };
            if rule.is_none() && domain.is_none() && address.is_none() {
                return Err(at.err(
                    ig.span(),
                    key,
                    "rule \"*\" needs a `domain` or an `address` (to turn a rule off everywhere, use [rules])",
                ));
            }
            let reason = match &raw.reason {
                Some(r) => Some(at.string(r, &format!("{key}.reason"))?),
                None => None,
            };
            config.ignores.push(Ignore {
                rule,
                domain,
                address,
                reason,
            });
        }
        let no_entries = Vec::new();
        if let Some(list) = &raw.zone {
            at.count(list, "zone")?;
        }
        let zones = raw.zone.as_ref().map_or(&no_entries, |l| l.get_ref());
        for (i, z) in zones.iter().enumerate() {
            let key = format!("zone[{i}]");
            let raw = z.get_ref();
            let id = at.string(&raw.id, &format!("{key}.id"))?.trim().to_owned();
            if id.is_empty() || id.contains(char::is_whitespace) {
                return Err(at.err(raw.id.span(), format!("{key}.id"), "a zone id is one word"));
            }
            let domain = at.domain(&raw.domain, &format!("{key}.domain"))?;
            let here = at.err(z.span(), key.clone(), "");
            config
                .add_zone(ZoneMapping {
                    id,
                    domain,
                    line: here.line,
                    column: here.column,
                    key,
                })
                .map_err(|mut e| {
                    e.line = here.line;
                    e.column = here.column;
                    e
                })?;
        }
        if let Some(a) = &raw.alerts {
            config.alerts = at.alerts(a.get_ref())?;
        }
        config.alerts.domains = config.domains.clone().unwrap_or_default();
        Ok(config)
    }

    /// Adds a zone mapping (from the file or `--zone`); the same id mapped to
    /// another domain is an error.
    ///
    /// # Errors
    ///
    /// [`LintConfigError`] naming the entry when the id is already mapped to
    /// another domain.
    pub fn add_zone(&mut self, z: ZoneMapping) -> Result<(), LintConfigError> {
        if let Some(other) = self.zones.iter().find(|o| o.id == z.id) {
            if other.domain == z.domain {
                return Ok(());
            }
            return Err(z.error(format!(
                "zone id {:?} is mapped to {} here and to {} by {}",
                z.id, z.domain, other.domain, other.key
            )));
        }
        if self.zones.len() >= MAX_ENTRIES {
            return Err(z.error(format!("more than {MAX_ENTRIES} zone mappings")));
        }
        self.zones.push(z);
        Ok(())
    }

    /// What the plan reader needs to know: the zone mappings.
    pub fn plan_options(&self) -> crate::plan::PlanOptions {
        crate::plan::PlanOptions {
            zones: self
                .zones
                .iter()
                .map(|z| (z.id.clone(), z.domain.clone()))
                .collect(),
        }
    }

    /// Checks the zone mappings against a plan read with [`Self::plan_options`]:
    /// a mapping no record of the plan uses, or one that contradicts a zone the
    /// plan holds, is an error naming the entry.
    ///
    /// # Errors
    ///
    /// [`LintConfigError`] for the first such mapping.
    pub fn check_zones(&self, plan: &crate::plan::Plan) -> Result<(), LintConfigError> {
        use crate::plan::ZoneSource;
        for z in &self.zones {
            let message = match plan.zone_source(&z.id) {
                None => format!(
                    "zone id {:?} is used by no record of the plan (the ids there: {})",
                    z.id,
                    plan.zone_ids
                        .keys()
                        .take(10)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(ZoneSource::Plan(name)) if *name != z.domain => format!(
                    "zone id {:?} is {name} in the plan itself, not {}",
                    z.id, z.domain
                ),
                _ => continue,
            };
            return Err(z.error(message));
        }
        Ok(())
    }

    /// Attributes the policy files that a `[[policy]]` entry names to its domain
    /// (an entry overrides what the plan reader inferred; the first matching
    /// entry wins).
    pub fn attribute(&self, policies: &mut [PlannedPolicy]) {
        for p in policies {
            let hit = self.policies.iter().find(|m| match &m.select {
                PolicySelector::Address(a) => *a == p.address,
                PolicySelector::Location(l) => *l == p.bucket_or_path.trim_start_matches('/'),
            });
            if let Some(m) = hit {
                p.domain = Some(m.domain.clone());
            }
        }
    }

    /// Whether findings for `domain` are kept: every domain without a `domains`
    /// list; otherwise the listed ones, and findings that have no domain.
    pub fn wants(&self, domain: &str) -> bool {
        domain.is_empty()
            || self
                .domains
                .as_ref()
                .is_none_or(|list| list.iter().any(|d| d == domain))
    }

    /// Applies the `domains` list, the ignores and the severity overrides, then
    /// sorts the findings ([`sort_findings`]).
    pub fn apply(&self, mut findings: Vec<Finding>) -> Vec<Finding> {
        findings.retain(|f| self.wants(&f.domain));
        self.apply_overrides(findings)
    }

    /// Applies the ignores and the severity overrides (not the `domains` list,
    /// for a domain named on the command line), then sorts the findings.
    pub fn apply_overrides(&self, mut findings: Vec<Finding>) -> Vec<Finding> {
        findings.retain(|f| !self.ignores.iter().any(|i| i.matches(f)));
        findings.retain_mut(|f| match self.rules.get(f.rule) {
            Some(Override::Off) => false,
            Some(Override::Level(s)) => {
                f.severity = *s;
                true
            }
            None => true,
        });
        sort_findings(&mut findings);
        findings
    }
}
