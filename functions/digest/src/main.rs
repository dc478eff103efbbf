//! The Lambda entry point, packaged as `bootstrap` for `provided.al2023`: read
//! the configuration once (failing fast with the name of a missing or bad
//! variable), build the S3, SES and SNS clients
//! once, then hand each event to the library's handler.

// The edge: environment and clock are read here and nowhere else.
#![allow(clippy::disallowed_methods)]

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;
use stsguard::alerts::sns::Publisher;
use stsguard::mailer::ses::SesMailer;
use stsguard::store::s3::S3Store;
use stsguard_digest::{emf_line, Config, Handler, HandlerError};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("stsguard-digest: configuration error: {e}");
            return Err(e.into());
        }
    };
    let s3 = stsguard::store::s3::client_from_env(config.path_style).await;
    let store = S3Store::new(s3, config.bucket.clone(), config.store_prefix.clone());
    let mailer = SesMailer::from_env().await;
    let notifier = Publisher::for_topic(config.alert_topic_arn.as_deref()).await;
    let handler = Handler::new(store, mailer, notifier, config);
    let handler = &handler;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
        // A failure goes back as a `HandlerError`, reported with its causes.
        let resp = handler.handle(event.payload, now).await?;
        println!("{}", emf_line(&resp, now.timestamp_millis()));
        Ok::<_, HandlerError>(resp)
    }))
    .await
}
