//! The library's integration tests, one binary: each module tests one part
//! through the public API. The live modules run loopback DNS, HTTPS and SMTP
//! servers (`stsguard-test-support`) and need no outside network.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod alerts;
mod batch;
mod bomb;
mod catalogue;
mod dane;
mod digest;
mod golden;
mod grammar;
mod hostile;
mod lint_config;
mod lint_plan;
#[cfg(feature = "live")]
mod live_dns;
#[cfg(feature = "live")]
mod live_https;
#[cfg(feature = "live")]
mod live_smtp;
mod multi_domain;
mod plan;
mod props;
mod receive;
mod zones;
