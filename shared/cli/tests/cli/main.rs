//! The `stsguard` binary end to end, one test binary: each module drives one
//! command as a user would (files, exit codes, output), with loopback servers
//! for the live checks and a local S3/SES endpoint for the tests run by name
//! from `.ci/run`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod alerts;
mod digest;
mod ingest;
mod lint_golden;
mod live_check;
mod live_lint;
mod output;
mod receive;
mod support;
