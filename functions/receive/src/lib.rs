//! The HTTPS receiver Lambda: TLSRPT reports POSTed to a Lambda function URL
//! (RFC 8460 §3, a `rua=https://…` destination) -> normalized reports in S3.
//!
//! A function URL hands each HTTP request to the function as an event
//! (payload format 2.0) and turns the returned object into the HTTP answer.
//! [`request_of`] reads the event into the parts the library needs (pure);
//! [`Handler::handle`] calls [`stsguard::receive::handle`], which keeps the raw
//! body under `raw/https/` first and then stores the report (or a rejection
//! record) put-if-absent, exactly as `stsguard receive` does; [`response_of`]
//! writes the answer back (pure).
//!
//! Answers: `201` stored, `200` an exact duplicate, `4xx` with a short plain
//! reason for an unusable body (recorded under `rejected/`), `404` a wrong
//! secret path, `405` another method than POST, `503` with `Retry-After` for a
//! storage failure, so that the sender retries. An event that is not a
//! function URL request fails the invocation ([`EventError`]); the function URL
//! answers such a failure with `502`.

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlResponse;
use aws_lambda_events::http::{header, HeaderMap, HeaderValue};
use base64::Engine as _;
use serde_json::Value;
use stsguard::envconf::{bytes, domains, prefix};
use stsguard::ingest::IngestConfig;
use stsguard::receive::{self, ReceiveConfig};
use stsguard::store::s3::S3Store;
use stsguard::store::ObjectStore;

pub use stsguard::envconf::ConfigError;

/// Configuration, read once at cold start.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The bucket reports, rejections and raw bodies are written to.
    pub bucket: String,
    /// Prefix under which `raw/https/`, `reports/` and `rejected/` go (usually
    /// empty).
    pub store_prefix: String,
    /// The secret path segment, the caps and the allowed domains.
    pub receive: ReceiveConfig,
    /// Path-style S3 addressing (S3-compatible endpoints).
    pub path_style: bool,
}

impl Config {
    /// Reads the configuration through `get` (the process environment in `main`):
    ///
    /// | variable | meaning | default |
    /// |---|---|---|
    /// | `STSGUARD_BUCKET` | bucket of raw bodies and results | required |
    /// | `STSGUARD_STORE_PREFIX` | prefix of `raw/https/`, `reports/` and `rejected/` | empty |
    /// | `STSGUARD_RECEIVE_TOKEN` | secret first path segment (`rua=https://host/TOKEN/v1`) | none: any path |
    /// | `STSGUARD_DOMAINS` | comma-separated allowlist of policy domains | any |
    /// | `STSGUARD_MAX_BODY_BYTES` | request body cap | 10 MiB |
    /// | `STSGUARD_MAX_REPORT_BYTES` | decompressed report cap | 20 MiB |
    /// | `STSGUARD_S3_PATH_STYLE` | path-style addressing | `true` when `AWS_ENDPOINT_URL` is set |
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let bucket = stsguard::envconf::bucket(get("STSGUARD_BUCKET"))?;
        let store_prefix = prefix(&get("STSGUARD_STORE_PREFIX").unwrap_or_default());
        let token = match get("STSGUARD_RECEIVE_TOKEN").map(|t| t.trim().to_owned()) {
            None => None,
            Some(t) if t.is_empty() => None,
            Some(t) => {
                if let Err(why) = receive::check_token(&t) {
                    // The value is a secret: not repeated in the message.
                    return Err(ConfigError::Invalid {
                        name: "STSGUARD_RECEIVE_TOKEN",
                        value: format!("<{} characters>", t.chars().count()),
                        why: why.into(),
                    });
                }
                Some(t)
            }
        };
        let mut ingest = IngestConfig {
            allowed_domains: domains("STSGUARD_DOMAINS", get("STSGUARD_DOMAINS"))?,
            ..IngestConfig::default()
        };
        ingest.limits.max_report_bytes = bytes(
            "STSGUARD_MAX_REPORT_BYTES",
            get("STSGUARD_MAX_REPORT_BYTES"),
            ingest.limits.max_report_bytes,
        )?;
        let max_body_bytes = bytes(
            "STSGUARD_MAX_BODY_BYTES",
            get("STSGUARD_MAX_BODY_BYTES"),
            receive::MAX_BODY_BYTES,
        )?;
        let path_style = stsguard::envconf::path_style(&get)?;
        Ok(Config {
            bucket,
            store_prefix,
            receive: ReceiveConfig {
                ingest,
                token,
                max_body_bytes,
            },
            path_style,
        })
    }
}

/// An invocation that is not a function URL request (a test invoke with
/// another event, a misconfigured trigger). It fails the invocation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// The event does not have the function URL request shape.
    #[error("not a function URL request event: {0}")]
    Malformed(String),
}

/// What the function reports for a failed invocation: the error's message.
impl From<EventError> for lambda_runtime::Diagnostic {
    fn from(e: EventError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: std::any::type_name::<EventError>().to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// One request, read out of a function URL event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UrlRequest {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The body, decoded from base64 when the event says so.
    pub body: Vec<u8>,
    /// The client's address (`requestContext.http.sourceIp`).
    pub client: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

impl UrlRequest {
    /// The library's view of this request. The body is whole (the event holds
    /// it; Lambda caps an invocation's payload at 6 MB).
    pub fn as_request(&self) -> receive::Request<'_> {
        receive::Request {
            method: &self.method,
            path: &self.path,
            content_type: self.content_type.as_deref(),
            body: &self.body,
            truncated_size: None,
            client: self.client.as_deref(),
            user_agent: self.user_agent.as_deref(),
        }
    }
}

/// A header of the event (function URLs give header names in lower case;
/// compared without regard to case all the same).
fn header_text(headers: Option<&serde_json::Map<String, Value>>, name: &str) -> Option<String> {
    headers?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .map(str::to_owned)
}

/// Reads a function URL event (payload format 2.0). Pure. The event is read
/// as plain JSON, not through a typed header map: a header that a strict
/// HTTP library would refuse must not make the request fail before its body
/// is kept.
pub fn request_of(event: Value) -> Result<UrlRequest, EventError> {
    let malformed = |what: &str| EventError::Malformed(what.to_owned());
    if !event.is_object() {
        return Err(malformed("the event is not a JSON object"));
    }
    let http = &event["requestContext"]["http"];
    let method = http["method"]
        .as_str()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| malformed("no requestContext.http.method"))?
        .to_owned();
    let path = event["rawPath"]
        .as_str()
        .or_else(|| http["path"].as_str())
        .filter(|p| !p.is_empty())
        .unwrap_or("/")
        .to_owned();
    let body = match event.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(b) if event["isBase64Encoded"].as_bool() == Some(true) => {
            base64::engine::general_purpose::STANDARD
                .decode(b.as_bytes())
                .map_err(|e| EventError::Malformed(format!("the body is not valid base64: {e}")))?
        }
        Some(b) => b.as_bytes().to_vec(),
    };
    let headers = event.get("headers").and_then(Value::as_object);
    Ok(UrlRequest {
        method,
        path,
        content_type: header_text(headers, "content-type"),
        body,
        client: http["sourceIp"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        user_agent: header_text(headers, "user-agent")
            .or_else(|| http["userAgent"].as_str().map(str::to_owned))
            .filter(|s| !s.is_empty()),
    })
}

/// The function URL answer for the library's answer: the status, a plain-text
/// body, `Allow` and `Retry-After` when set, never cached. Pure.
pub fn response_of(r: &receive::Response) -> LambdaFunctionUrlResponse {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Some(allow) = r.allow {
        headers.insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    if let Some(secs) = r.retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    let mut out = LambdaFunctionUrlResponse::default();
    out.status_code = i64::from(r.status);
    out.headers = headers;
    out.body = Some(r.body.clone());
    out.is_base64_encoded = false;
    out
}

/// One request's outcome: the answer for the function URL and the library's
/// answer (status, log line).
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    /// What the function URL sends back.
    pub url: LambdaFunctionUrlResponse,
    /// The library's answer, with the escaped log line.
    pub answer: receive::Response,
}

/// The handler: where reports go and the configuration, built once per cold
/// start.
#[derive(Debug, Clone)]
pub struct Handler<S> {
    store: S,
    config: Config,
}

impl Handler<S3Store> {
    /// The Lambda's handler over one S3 client: raw bodies and results under
    /// `config.store_prefix` in `config.bucket`.
    pub fn s3(client: aws_sdk_s3::Client, config: Config) -> Self {
        let store = S3Store::new(client, config.bucket.clone(), config.store_prefix.clone());
        Handler::new(store, config)
    }
}

impl<S: ObjectStore> Handler<S> {
    /// A handler writing to `store`.
    pub fn new(store: S, config: Config) -> Self {
        Handler { store, config }
    }

    /// Where raw bodies, reports and rejections are written.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Answers one function URL event at time `now`.
    pub async fn handle(
        &self,
        event: Value,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Handled, EventError> {
        let req = request_of(event)?;
        let answer = receive::handle(&self.store, &req.as_request(), &self.config.receive, now).await;
        Ok(Handled {
            url: response_of(&answer),
            answer,
        })
    }
}

/// The CloudWatch Embedded Metric Format line for one request (namespace
/// `stsguard`, dimension `Function=receive`): `Requests`, `ReportsStored`
/// (201), `Duplicates` (200), `Refused` (4xx) and `StorageFailures` (5xx).
/// Pure; `main` prints it.
pub fn emf_line(r: &receive::Response, timestamp_ms: i64) -> String {
    let is = |hit: bool| usize::from(hit);
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "stsguard",
                "Dimensions": [["Function"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "ReportsStored", "Unit": "Count"},
                    {"Name": "Duplicates", "Unit": "Count"},
                    {"Name": "Refused", "Unit": "Count"},
                    {"Name": "StorageFailures", "Unit": "Count"},
                ],
            }],
        },
        "Function": "receive",
        "Requests": 1,
        "ReportsStored": is(r.status == 201),
        "Duplicates": is(r.status == 200),
        "Refused": is((400..500).contains(&r.status)),
        "StorageFailures": is(r.status >= 500),
    })
    .to_string()
}
