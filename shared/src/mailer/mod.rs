//! Sending a built MIME message, behind a small trait: Amazon SES (with the
//! `aws` feature) in Lambda and the CLI, a recording mailer in tests.

#[cfg(feature = "ses")]
pub mod ses;

use std::future::Future;
use std::sync::Mutex;

/// Sending failed. Always transient from the pipeline's point of view: the
/// caller returns an error so the invocation is retried.
#[derive(Debug, thiserror::Error)]
#[error("sending the mail failed: {message}")]
pub struct SendError {
    /// The cause, as the backend described it.
    pub message: String,
}

/// Sends raw MIME messages.
pub trait Mailer: Send + Sync {
    /// Sends `raw` from `from` to `to`; returns the backend's message id.
    fn send_raw(
        &self,
        from: &str,
        to: &[String],
        raw: Vec<u8>,
    ) -> impl Future<Output = Result<String, SendError>> + Send;
}

/// One message a [`RecordingMailer`] was asked to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// The raw message.
    pub raw: Vec<u8>,
}

/// Keeps what it is asked to send, for tests and dry runs.
#[derive(Debug, Default)]
pub struct RecordingMailer {
    sent: Mutex<Vec<Sent>>,
}

impl RecordingMailer {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Mailer for RecordingMailer {
    async fn send_raw(&self, from: &str, to: &[String], raw: Vec<u8>) -> Result<String, SendError> {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sent.push(Sent {
            from: from.to_owned(),
            to: to.to_vec(),
            raw,
        });
        Ok(format!("recorded-{}", sent.len()))
    }
}
