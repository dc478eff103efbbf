//! The linter: one domain's records, policy and MX set, or every domain of a
//! Terraform plan, against the rule catalogue. Pure: no clock, network or
//! filesystem.
//!
//! * [`catalogue`]: every rule once (ID, title, default severity, help, RFC
//!   sections);
//! * [`Finding`]: what a rule found, inert by construction;
//! * [`lint_domain`]: one domain's parts ([`DomainInput`]);
//! * [`lint_plan`], [`lint_plan_with`]: every planned domain, with the plan's
//!   before/after values, names, TTLs and dependencies;
//! * [`config`]: the configuration file (domains, policy mapping, severities,
//!   ignores);
//! * [`output`]: text, JSON, SARIF and GitHub annotations.

pub mod catalogue;
pub mod config;
mod domain;
mod finding;
pub mod output;
mod plan_rules;

pub use catalogue::{rule, Rule, RULES};
pub use config::LintConfig;
pub use domain::{lint_domain, DomainInput, MxSet};
pub use finding::{sort_findings, Finding};
pub use plan_rules::{lint_plan, lint_plan_with, plan_domains};
pub(crate) use plan_rules::{lint_plan_extended, sts_ttl_advice, PlannedParts};
