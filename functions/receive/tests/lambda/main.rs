//! The receiver Lambda's tests, one binary: function URL event shapes,
//! configuration, answers and metrics over a memory store (`events`), and the
//! handler against a local S3 endpoint through the real SDK (`s3_endpoint`,
//! ignored without `AWS_ENDPOINT_URL`; `.ci/run` runs them by name against
//! moto).

mod events;
mod s3_endpoint;
