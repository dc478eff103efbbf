//! The digest Lambda's tests, one binary: event shapes, configuration and the
//! handler over memory (`events`), and the handler against local S3 and SES
//! endpoints through the real SDK (`endpoint`, ignored without
//! `AWS_ENDPOINT_URL`; `.ci/run` runs them by name against moto).

mod endpoint;
mod events;
