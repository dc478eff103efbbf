//! The Lambda entry point, packaged as `bootstrap` for `provided.al2023`: read
//! the configuration once (failing fast with the name of a missing or bad
//! variable), build the S3 client once, then answer each function URL request
//! through the library's handler.

// The edge: environment and clock are read here and nowhere else.
#![allow(clippy::disallowed_methods)]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use stsguard_receive::{emf_line, Config, EventError, Handler};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => {
            // Logged before the runtime starts, so an INIT failure names the cause.
            eprintln!("stsguard-receive: configuration error: {e}");
            return Err(e.into());
        }
    };
    let client = stsguard::store::s3::client_from_env(config.path_style).await;
    let handler = Handler::s3(client, config);
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        let handled = handler.handle(event.payload, now).await?;
        // The log line escapes every request value (`receive::Response::log`).
        if handled.answer.status >= 500 {
            tracing::error!(status = handled.answer.status, "{}", handled.answer.log);
        } else {
            tracing::info!(status = handled.answer.status, "{}", handled.answer.log);
        }
        println!("{}", emf_line(&handled.answer, now.timestamp_millis()));
        Ok::<_, EventError>(handled.url)
    }))
    .await
}
