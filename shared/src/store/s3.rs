//! Amazon S3 (or any S3-compatible endpoint) as an [`ObjectStore`].
//!
//! Put-if-absent is a conditional `PutObject` with `If-None-Match: *`: S3 answers
//! `412 Precondition Failed` when the key exists, so a redelivered report is a
//! no-op, never an overwrite. Listing follows `ListObjectsV2` continuation
//! tokens. Every SDK error becomes a [`StoreError::Remote`] naming the operation
//! and key, with the SDK's error as its source; callers treat them as transient.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use super::{check_key, Fetched, ObjectStore, PutOutcome, RawSource, StoreError};

/// A bucket and a key prefix.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    prefix: String,
}

/// Raw objects of any bucket the client can read, as a [`RawSource`]: each read
/// goes through an [`S3Store`] over the bucket the event names, without a prefix.
#[derive(Debug, Clone)]
pub struct S3RawSource {
    client: Client,
}

impl S3RawSource {
    /// A source reading through `client`.
    pub fn new(client: Client) -> Self {
        S3RawSource { client }
    }
}

impl RawSource for S3RawSource {
    /// [`S3Store::get_capped`]: an object over the cap is streamed through
    /// SHA-256, never held whole.
    async fn get_capped(&self, bucket: &str, key: &str, cap: usize) -> Result<Option<Fetched>, StoreError> {
        S3Store::new(self.client.clone(), bucket, "")
            .get_capped(key, cap)
            .await
    }
}

/// Splits `s3://bucket/prefix` into bucket and prefix (with a trailing `/` when
/// non-empty). `None` when the URL is not of that form.
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return None;
    }
    let prefix = prefix.trim_matches('/');
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    Some((bucket.to_owned(), prefix))
}

/// Builds an S3 client from the standard AWS configuration chain (environment,
/// profile, instance or Lambda role). `AWS_ENDPOINT_URL` points it at an
/// S3-compatible endpoint; `path_style` is needed for most of those.
pub async fn client_from_env(path_style: bool) -> Client {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let conf = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(path_style)
        .build();
    Client::from_conf(conf)
}

/// A [`StoreError::Remote`] for `op` on `key`, with the SDK's error as its source.
fn remote<E, R>(op: &'static str, key: &str, e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Remote {
        op,
        key: key.to_owned(),
        source: Box::new(e),
    }
}

impl S3Store {
    /// A store over `bucket`, with every key under `prefix` (`""` or ending in `/`).
    pub fn new(client: Client, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        S3Store {
            client,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn full(&self, key: &str) -> Result<String, StoreError> {
        check_key(key)?;
        Ok(format!("{}{key}", self.prefix))
    }

    /// Reads an object of any key in the bucket (not under the prefix, not
    /// checked as a store key: raw mail keys come from S3 events), keeping at most
    /// `cap` bytes. A larger object is streamed through SHA-256 instead, so its
    /// size never reaches memory. `None` when absent.
    pub async fn get_capped(&self, raw_key: &str, cap: usize) -> Result<Option<Fetched>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(raw_key)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(None),
            Err(e) => return Err(remote("get", raw_key, e)),
        };
        let declared = out.content_length().and_then(|n| u64::try_from(n).ok());
        let mut body = out.body;
        let mut data = Vec::with_capacity(declared.map_or(0, |n| n.min(cap as u64) as usize));
        let mut hasher: Option<sha2::Sha256> = None;
        let mut total = 0u64;
        let stream_err = |e: aws_sdk_s3::primitives::ByteStreamError| StoreError::Remote {
            op: "get",
            key: raw_key.to_owned(),
            source: Box::new(e),
        };
        while let Some(chunk) = body.try_next().await.map_err(stream_err)? {
            use sha2::Digest;
            total += chunk.len() as u64;
            match &mut hasher {
                Some(h) => h.update(&chunk),
                None if data.len() + chunk.len() > cap => {
                    let mut h = sha2::Sha256::new();
                    h.update(&data);
                    h.update(&chunk);
                    data = Vec::new();
                    hasher = Some(h);
                }
                None => data.extend_from_slice(&chunk),
            }
        }
        Ok(Some(match hasher {
            Some(h) => {
                use sha2::Digest;
                Fetched::TooLarge {
                    sha256: crate::hex(&h.finalize()),
                    bytes: total,
                }
            }
            None => Fetched::Whole(data),
        }))
    }
}

impl ObjectStore for S3Store {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let full = self.full(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| StoreError::Remote {
                    op: "get",
                    key: full.clone(),
                    source: Box::new(e),
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(remote("get", &full, e)),
        }
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<PutOutcome, StoreError> {
        let full = self.full(key)?;
        let res = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .if_none_match("*")
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await;
        match res {
            Ok(_) => Ok(PutOutcome::Created),
            Err(e) => {
                let code = e.as_service_error().and_then(|s| s.code()).unwrap_or_default();
                let status = e.raw_response().map(|r| r.status().as_u16());
                if code == "PreconditionFailed" || status == Some(412) {
                    Ok(PutOutcome::AlreadyExists)
                } else {
                    Err(remote("put", &full, e))
                }
            }
        }
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        let full = self.full(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .content_type(content_type(key))
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| remote("put", &full, e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let full = format!("{}{prefix}", self.prefix);
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| remote("list", &full, e))?;
            for obj in page.contents() {
                if let Some(k) = obj.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    out.push(k.to_owned());
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// The media type of an object this crate writes, from its key's extension.
fn content_type(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        Some("eml") => "message/rfc822",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::store::ErrorChain;
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::operation::put_object::PutObjectError;
    use aws_sdk_s3::primitives::SdkBody;
    use std::error::Error as _;

    #[test]
    fn an_sdk_error_is_the_source_of_the_store_error_and_the_chain_names_it() {
        let meta = ErrorMetadata::builder()
            .code("AccessDenied")
            .message("Access Denied")
            .build();
        let response = HttpResponse::new(403.try_into().unwrap(), SdkBody::empty());
        let sdk = SdkError::service_error(PutObjectError::generic(meta), response);
        let err = remote("put", "reports/v1/x.json", sdk);
        assert_eq!(err.to_string(), "put reports/v1/x.json");
        let source = err.source().expect("a source");
        let sdk = source
            .downcast_ref::<SdkError<PutObjectError, HttpResponse>>()
            .expect("the SDK's own error");
        assert_eq!(sdk.code(), Some("AccessDenied"));
        assert_eq!(sdk.raw_response().map(|r| r.status().as_u16()), Some(403));
        let chain = ErrorChain(&err).to_string();
        assert!(chain.starts_with("put reports/v1/x.json: "), "{chain}");
        assert!(chain.contains("AccessDenied"), "{chain}");
        assert!(chain.contains("Access Denied"), "{chain}");
    }

    #[test]
    fn s3_urls() {
        assert_eq!(parse_s3_url("s3://b"), Some(("b".into(), "".into())));
        assert_eq!(parse_s3_url("s3://b/"), Some(("b".into(), "".into())));
        assert_eq!(parse_s3_url("s3://b/p/q/"), Some(("b".into(), "p/q/".into())));
        assert_eq!(parse_s3_url("s3://b/p"), Some(("b".into(), "p/".into())));
        assert_eq!(parse_s3_url("s3:///p"), None);
        assert_eq!(parse_s3_url("/tmp/x"), None);
    }
}
