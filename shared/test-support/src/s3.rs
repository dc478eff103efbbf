//! The local S3 and SES endpoint the endpoint tests talk to (moto, started by
//! `.ci/run`; `AWS_ENDPOINT_URL` on loopback), through the real AWS SDK.

use std::sync::atomic::{AtomicU32, Ordering};

/// The endpoint, checked to be on loopback.
pub fn endpoint() -> String {
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.") || endpoint.starts_with("http://localhost"),
        "needs a local S3/SES endpoint (AWS_ENDPOINT_URL on loopback, run by .ci/run), got {endpoint:?}"
    );
    endpoint
}

/// `<tag>-<pid>-<n>`: unique within this test run.
pub fn unique(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An SES client for the local endpoint.
pub async fn ses() -> aws_sdk_ses::Client {
    endpoint();
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    aws_sdk_ses::Client::new(&shared)
}

/// An S3 client for the local endpoint (path-style addressing).
pub async fn client() -> aws_sdk_s3::Client {
    endpoint();
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let conf = aws_sdk_s3::config::Builder::from(&shared)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A new bucket `stsguard-<tag>-<pid>-<n>` on the local endpoint.
pub async fn bucket(client: &aws_sdk_s3::Client, tag: &str) -> String {
    let bucket = format!("stsguard-{}", unique(tag));
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    bucket
}

/// A new bucket (as [`bucket`]) with the runtime and the client that made it,
/// for synchronous tests.
pub fn bucket_blocking(name: &str) -> (tokio::runtime::Runtime, aws_sdk_s3::Client, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(client());
    let bucket = rt.block_on(bucket(&client, name));
    (rt, client, bucket)
}

/// Every key in `bucket`.
pub async fn keys(client: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(bucket)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        out.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        match page.next_continuation_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    out.sort();
    out
}

/// moto's whole state (`GET /moto-api/data.json` on the endpoint): what SES
/// sent (`ses.RawMessage`), what SNS published (`sns.Topic[].sent_notifications`).
pub fn moto_state() -> serde_json::Value {
    use std::io::{Read, Write};
    let host = endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut conn = std::net::TcpStream::connect(&host).expect("connect to the local endpoint");
    write!(conn, "GET /moto-api/data.json HTTP/1.0\r\nHost: {host}\r\n\r\n").expect("send");
    let mut resp = Vec::new();
    conn.read_to_end(&mut resp).expect("read");
    let body = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |p| p + 4);
    serde_json::from_slice(&resp[body..]).expect("moto state is JSON")
}

/// The (subject, message) pairs moto's SNS took for `topic_arn`, in order.
pub fn sns_published(topic_arn: &str) -> Vec<(String, String)> {
    let state = moto_state();
    let topics = state["sns"]["Topic"].as_array().cloned().unwrap_or_default();
    topics
        .iter()
        .filter(|t| t["arn"] == topic_arn)
        .flat_map(|t| t["sent_notifications"].as_array().cloned().unwrap_or_default())
        .map(|n| {
            (
                n[2].as_str().unwrap_or_default().to_owned(),
                n[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}
