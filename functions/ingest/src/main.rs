//! The Lambda entry point, packaged as `bootstrap` for `provided.al2023`: read
//! the configuration once (failing fast with the name of a missing or bad
//! variable), build the S3 client once, then
//! hand each event to the library's handler.

// The edge: environment and clock are read here and nowhere else.
#![allow(clippy::disallowed_methods)]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use stsguard::alerts::sns::Publisher;
use stsguard_ingest::{emf_lines, Config, Handler, HandlerError};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => {
            // Logged before the runtime starts, so an INIT failure names the cause.
            eprintln!("stsguard-ingest: configuration error: {e}");
            return Err(e.into());
        }
    };
    let client = stsguard::store::s3::client_from_env(config.path_style).await;
    let notifier = Publisher::for_topic(config.alert_topic_arn.as_deref()).await;
    let handler = Handler::s3(client, config).with_notifier(notifier);
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        // A failure goes back as a `HandlerError`: the runtime logs its `Debug`
        // form and reports it through `From<HandlerError> for Diagnostic`, which
        // prints the whole chain of causes.
        let resp = handler.handle(event.payload, now).await?;
        for line in emf_lines(&resp, now.timestamp_millis()) {
            println!("{line}");
        }
        Ok::<_, HandlerError>(resp)
    }))
    .await
}
