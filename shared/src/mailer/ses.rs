//! The SES mailer: `SendRawEmail` of Amazon SES (API v1), which takes the
//! message exactly as built, images and all.

use aws_sdk_ses::primitives::Blob;
use aws_sdk_ses::types::RawMessage;
use aws_sdk_ses::Client;

use super::{Mailer, SendError};

/// Sends through Amazon SES.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
}

impl SesMailer {
    /// A mailer over an SES client.
    pub fn new(client: Client) -> Self {
        SesMailer { client }
    }

    /// A mailer from the standard AWS configuration chain (`AWS_ENDPOINT_URL`
    /// points it at a compatible endpoint).
    pub async fn from_env() -> Self {
        let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        SesMailer::new(Client::new(&shared))
    }
}

impl Mailer for SesMailer {
    async fn send_raw(&self, from: &str, to: &[String], raw: Vec<u8>) -> Result<String, SendError> {
        let message = RawMessage::builder()
            .data(Blob::new(raw))
            .build()
            .map_err(|e| SendError {
                message: e.to_string(),
            })?;
        let out = self
            .client
            .send_raw_email()
            .source(from)
            .set_destinations(Some(to.to_vec()))
            .raw_message(message)
            .send()
            .await
            .map_err(|e| SendError {
                message: aws_sdk_ses::error::DisplayErrorContext(&e).to_string(),
            })?;
        Ok(out.message_id().to_owned())
    }
}
