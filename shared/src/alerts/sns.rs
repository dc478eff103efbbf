//! The SNS notifier: each alert message is one `Publish` to a topic, with the
//! short subject ([`super::subject`]: ASCII, one line, at most 100
//! characters) and the JSON body. No message attributes are set, so no
//! report text reaches one.

use aws_sdk_sns::Client;

use super::run::{Notifier, NotifyError};

/// Publishes to one topic.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: Client,
    topic_arn: String,
}

impl SnsNotifier {
    /// A notifier publishing to `topic_arn` with `client`.
    pub fn new(client: Client, topic_arn: impl Into<String>) -> Self {
        SnsNotifier {
            client,
            topic_arn: topic_arn.into(),
        }
    }

    /// The topic.
    pub fn topic_arn(&self) -> &str {
        &self.topic_arn
    }
}

/// An SNS client from the environment (region, credentials and
/// `AWS_ENDPOINT_URL` as the AWS SDK reads them).
pub async fn client_from_env() -> Client {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    Client::new(&shared)
}

impl Notifier for SnsNotifier {
    async fn publish(&self, subject: &str, body: &str) -> Result<String, NotifyError> {
        let out = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(body)
            .send()
            .await
            .map_err(|e| NotifyError {
                message: aws_sdk_sns::error::DisplayErrorContext(&e).to_string(),
            })?;
        Ok(out.message_id.unwrap_or_default())
    }
}

/// Where a function's alert messages go: the SNS topic when one is
/// configured, nowhere otherwise (alerts are still evaluated and stored).
#[derive(Debug, Clone)]
pub enum Publisher {
    /// Publish to this topic.
    Sns(SnsNotifier),
    /// Publish nothing.
    Off,
}

impl Publisher {
    /// The topic's publisher (an SNS client built from the environment), or
    /// [`Publisher::Off`] without a topic.
    pub async fn for_topic(topic_arn: Option<&str>) -> Self {
        match topic_arn {
            Some(arn) => Publisher::Sns(SnsNotifier::new(client_from_env().await, arn)),
            None => Publisher::Off,
        }
    }
}

impl Notifier for Publisher {
    async fn publish(&self, subject: &str, body: &str) -> Result<String, NotifyError> {
        match self {
            Publisher::Sns(n) => n.publish(subject, body).await,
            Publisher::Off => Ok(String::new()),
        }
    }
}
