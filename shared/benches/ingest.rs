//! Criterion benchmarks of the ingest pipeline and of its bare bounds.
//!
//! Run with `cargo bench -p stsguard --bench ingest`.
//!
//! Corpus (all inputs are held in memory before timing starts):
//!
//! * default: the fixtures in `tests/fixtures/corpus/` (the JSON reports and the
//!   report inside the `.eml`) replicated into `STSGUARD_BENCH_N` (default 10,000)
//!   report mails. Every replica gets its own `report-id`, is gzipped and wrapped
//!   in a `multipart/report` mail with an `application/tlsrpt+gzip` base64
//!   attachment, `TLS-Report-Domain` / `TLS-Report-Submitter` headers and SES's
//!   `Authentication-Results`, like the mails SES delivers;
//! * `STSGUARD_BENCH_CORPUS=DIR`: a corpus written by
//!   `bench/ingest/gen_corpus.py DIR N` (its `eml/*.eml`, `gz/*.json.gz` and
//!   `totals.json`), the corpus the peer figures were measured on.
//!
//! Benchmarks (one iteration is one pass over the whole corpus; throughput is in
//! reports):
//!
//! * `full_pipeline`: [`ingest::prepare`] (MIME, gunzip, tolerant parse,
//!   normalization, keys) then [`ingest::store_prepared`] (pretty JSON, put-if-absent)
//!   into a fresh [`MemoryStore`] per pass;
//! * `prepare_only`: [`ingest::prepare`] alone, to split the cost;
//! * `payload_pipeline`: the same pipeline over the bare gzip payloads
//!   (`InputKind::Payload`): exactly the bare bound's input, so the ratio to it
//!   is the cost of normalization, keys, serialization and the store without MIME;
//! * `bare_bound`: flate2 `MultiGzDecoder` + `serde_json::from_slice::<Value>` over the
//!   same gzip payloads (the `serde` mode of `bench/ingest/rust-bound`);
//! * `mime_bound`: mail-parser + the attachment + the same gunzip and `Value` (the
//!   `mime` mode of `bench/ingest/rust-bound`).
//!
//! Every pass checks its result: one report per mail, no rejection, one object
//! written per distinct (organization, report-id) (a repeated one is serialized and
//! found to be a duplicate, as a redelivery would be), and for a generated corpus the
//! session total of `totals.json`. A pass that measured a failure path panics
//! instead of reporting a figure.
//!
//! `STSGUARD_BENCH_SECS` sets the measurement time per benchmark (default 8 s);
//! `STSGUARD_BENCH_DUMP=DIR` also writes the corpus to `DIR/eml/` and `DIR/gz/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use criterion::{Criterion, SamplingMode, Throughput};
use flate2::read::MultiGzDecoder;
use mail_parser::{MessageParser, MimeHeaders};
use serde_json::Value;
use stsguard::ingest::{self, IngestConfig, InputContext, InputKind};
use stsguard::store::MemoryStore;

/// Mails of the default (replicated-fixture) corpus.
const DEFAULT_MAILS: usize = 10_000;

/// The inputs of one run, all in memory.
struct Corpus {
    /// Names the criterion group, e.g. `peers-10000` or `fixtures-10000`.
    label: String,
    /// Input names, one per mail (copied into `source.input`).
    names: Vec<String>,
    /// Raw report mails.
    mails: Vec<Vec<u8>>,
    /// The gzip payloads attached to the mails, in the same order.
    gz: Vec<Vec<u8>>,
    /// The session total from `totals.json`, for a generated corpus.
    sessions: Option<u64>,
}

// ---------------------------------------------------------------------------
// Corpus: a generated one from disk.

fn read_sorted(dir: &Path, suffix: &str) -> Vec<(String, Vec<u8>)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
            (name, bytes)
        })
        .collect()
}

fn load_generated(dir: &Path) -> Corpus {
    let totals: Value = serde_json::from_slice(
        &std::fs::read(dir.join("totals.json")).expect("totals.json of a gen_corpus.py corpus"),
    )
    .expect("totals.json is JSON");
    let want = totals["reports"].as_u64().expect("totals.reports") as usize;
    let (names, mails): (Vec<_>, Vec<_>) = read_sorted(&dir.join("eml"), ".eml").into_iter().unzip();
    let gz: Vec<_> = read_sorted(&dir.join("gz"), ".json.gz")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    assert_eq!(
        mails.len(),
        want,
        "eml/ holds {} mails, totals.json says {want}",
        mails.len()
    );
    assert_eq!(
        gz.len(),
        want,
        "gz/ holds {} payloads, totals.json says {want}",
        gz.len()
    );
    Corpus {
        label: format!("peers-{want}"),
        names,
        mails,
        gz,
        sessions: Some(totals["sessions"].as_u64().expect("totals.sessions")),
    }
}

// ---------------------------------------------------------------------------
// Corpus: the repository fixtures, replicated into report mails.

/// One fixture report and the facts its mails are built from.
struct Seed {
    json: String,
    report_id: Option<String>,
    domain: String,
    submitter: String,
    begin: i64,
    end: i64,
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus")
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(gz).read_to_end(&mut out).expect("gunzip");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn is_tlsrpt_attachment(p: &mail_parser::MessagePart<'_>) -> bool {
    p.content_type().is_some_and(|ct| {
        let sub = ct.subtype().unwrap_or("");
        ct.ctype().eq_ignore_ascii_case("application")
            && (sub.eq_ignore_ascii_case("tlsrpt+gzip") || sub.eq_ignore_ascii_case("gzip"))
    })
}

fn seed(json: String, header_domain: Option<String>, header_submitter: Option<String>) -> Seed {
    let v: Value = serde_json::from_str(&json).expect("fixture is JSON");
    let time = |k: &str| {
        v["date-range"][k]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.timestamp())
    };
    let policy_domain = v["policies"].as_array().and_then(|ps| {
        ps.iter()
            .find_map(|p| p["policy"]["policy-domain"].as_str().map(str::to_owned))
    });
    let contact_domain = v["contact-info"]
        .as_str()
        .and_then(|c| c.rsplit_once('@'))
        .map(|(_, d)| d.trim_end_matches('>').to_owned());
    Seed {
        report_id: v["report-id"].as_str().map(str::to_owned),
        domain: header_domain
            .or(policy_domain)
            .unwrap_or_else(|| "example.com".into()),
        submitter: header_submitter
            .or(contact_domain)
            .unwrap_or_else(|| "reporter.example".into()),
        begin: time("start-datetime").unwrap_or(1_725_321_600),
        end: time("end-datetime").unwrap_or(1_725_407_999),
        json,
    }
}

fn load_seeds() -> Vec<Seed> {
    let dir = fixtures_dir();
    let mut seeds = Vec::new();
    for (name, bytes) in read_sorted(&dir, "") {
        if name.ends_with(".json") {
            seeds.push(seed(String::from_utf8(bytes).expect("UTF-8 fixture"), None, None));
        } else if name.ends_with(".eml") {
            let msg = MessageParser::default().parse(&bytes).expect("fixture mail");
            let header = |h: &str| msg.header_raw(h).map(|v| v.trim().to_owned());
            let (domain, submitter) = (header("TLS-Report-Domain"), header("TLS-Report-Submitter"));
            let att = msg
                .attachments()
                .find(|p| is_tlsrpt_attachment(p))
                .unwrap_or_else(|| panic!("{name}: no tlsrpt attachment"));
            let json = String::from_utf8(gunzip(att.contents())).expect("UTF-8 report");
            seeds.push(seed(json, domain, submitter));
        }
    }
    assert!(!seeds.is_empty(), "no fixtures in {}", dir.display());
    seeds
}

/// The fixture JSON with `report-id` set to `new_id`, formatting kept.
fn with_report_id(s: &Seed, new_id: &str) -> String {
    let quoted_new = serde_json::to_string(new_id).unwrap();
    if let Some(old) = &s.report_id {
        let quoted_old = serde_json::to_string(old).unwrap();
        if let Some(key) = s.json.find("\"report-id\"") {
            if let Some(at) = s.json[key + 11..].find(&quoted_old).map(|i| key + 11 + i) {
                return format!(
                    "{}{quoted_new}{}",
                    &s.json[..at],
                    &s.json[at + quoted_old.len()..]
                );
            }
        }
    }
    let mut v: Value = serde_json::from_str(&s.json).unwrap();
    v["report-id"] = Value::String(new_id.to_owned());
    serde_json::to_string_pretty(&v).unwrap()
}

fn base64_lines(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut flat = String::with_capacity(bytes.len() * 4 / 3 + 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            flat.push(if i <= c.len() {
                A[(n >> shift) as usize & 63] as char
            } else {
                '='
            });
        }
    }
    let mut out = String::with_capacity(flat.len() + flat.len() / 38 + 2);
    for line in flat.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push_str("\r\n");
    }
    out
}

/// Deterministic pseudo-random hex, for ids and signatures.
fn hex_noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = String::with_capacity(len);
    while s.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        write!(s, "{x:016x}").unwrap();
    }
    s.truncate(len);
    s
}

/// A report mail shaped like the ones SES delivers from large reporters.
fn mail(i: usize, s: &Seed, report_id: &str, gz: &[u8]) -> Vec<u8> {
    let (dom, sub) = (&s.domain, &s.submitter);
    let name = format!("{sub}!{dom}!{}!{}!001.json.gz", s.begin, s.end);
    let date = DateTime::<Utc>::from_timestamp(s.end + 1 + (i % 7200) as i64, 0)
        .unwrap()
        .to_rfc2822();
    let boundary = format!("0000000000{}", hex_noise(i as u64, 18));
    let sig = base64_lines(hex_noise(i as u64 ^ 0xD1C1, 256).as_bytes());
    let sig = format!("{}\r\n", sig.trim_end().replace("\r\n", "\r\n         "));
    let mut m = String::with_capacity(2048 + gz.len() * 4 / 3);
    m.push_str(&format!(
        "Return-Path: <noreply-smtp-tls-reporting@{sub}>\r\n\
         Received: from mail-sor-f41.{sub} (mail-sor-f41.{sub} [203.0.113.41])\r\n \
         by inbound-smtp.us-east-1.amazonaws.com with SMTP id {id}\r\n \
         for tlsrpt@{dom}; {date}\r\n\
         X-SES-Spam-Verdict: PASS\r\n\
         X-SES-Virus-Verdict: PASS\r\n\
         Authentication-Results: amazonses.com;\r\n \
         spf=pass (spfCheck: domain of {sub} designates 203.0.113.41 as permitted sender)\r\n \
         smtp.mailfrom=noreply-smtp-tls-reporting@{sub};\r\n \
         dkim=pass header.i=@{sub};\r\n \
         dmarc=pass header.from={sub};\r\n\
         DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n        \
         d={sub}; s=20230601; t={t}; x={x}; darn={dom};\r\n        \
         h=to:from:subject:message-id:tls-report-submitter:tls-report-domain\r\n         \
         :date:mime-version:from:to:cc:subject:date:message-id:reply-to;\r\n        \
         bh={bh}=;\r\n        \
         b={sig}\
         MIME-Version: 1.0\r\n\
         Date: {date}\r\n\
         TLS-Report-Domain: {dom}\r\n\
         TLS-Report-Submitter: {sub}\r\n\
         Message-ID: <{mid}tls@{sub}>\r\n\
         Subject: Report Domain: {dom} Submitter: {sub} Report-ID: <{report_id}>\r\n\
         From: noreply-smtp-tls-reporting@{sub}\r\n\
         To: tlsrpt@{dom}\r\n\
         Content-Type: multipart/report; boundary=\"{boundary}\"; report-type=tlsrpt\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: text/plain; charset=\"UTF-8\"; format=flowed; delsp=yes\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\
         \r\n\
         This is an aggregate TLS report from {sub}\r\n\
         \r\n\
         --{boundary}\r\n\
         Content-Type: application/tlsrpt+gzip; \r\n\tname=\"{name}\"\r\n\
         Content-Disposition: attachment; \r\n\tfilename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\
         \r\n",
        id = hex_noise(i as u64 ^ 0xA5, 40),
        t = s.end + 1,
        x = s.end + 1 + 604_800,
        bh = &base64_lines(hex_noise(i as u64 ^ 0xB4, 32).as_bytes())[..43],
        mid = hex_noise(i as u64 ^ 0x3D, 24),
    ));
    m.push_str(&base64_lines(gz));
    m.push_str(&format!("\r\n--{boundary}--\r\n"));
    m.into_bytes()
}

fn build_fixture_corpus(n: usize) -> Corpus {
    let seeds = load_seeds();
    let mut corpus = Corpus {
        label: format!("fixtures-{n}"),
        names: Vec::with_capacity(n),
        mails: Vec::with_capacity(n),
        gz: Vec::with_capacity(n),
        sessions: None,
    };
    for i in 0..n {
        let s = &seeds[i % seeds.len()];
        let base = s.report_id.as_deref().unwrap_or("report");
        let report_id = format!("{base}.bench{:05}", i / seeds.len());
        let gz = gzip(with_report_id(s, &report_id).as_bytes());
        corpus.mails.push(mail(i, s, &report_id, &gz));
        corpus.names.push(format!("bench-{i:05}.eml"));
        corpus.gz.push(gz);
    }
    corpus
}

/// Writes the corpus as `DIR/eml/*.eml` and `DIR/gz/*.json.gz`, e.g. to run the
/// `stsguard` binary on the same mails.
fn dump(c: &Corpus, dir: &Path) {
    for sub in ["eml", "gz"] {
        std::fs::create_dir_all(dir.join(sub)).expect("create dump directory");
    }
    for ((name, mail), gz) in c.names.iter().zip(&c.mails).zip(&c.gz) {
        std::fs::write(dir.join("eml").join(name), mail).expect("write mail");
        let stem = name.trim_end_matches(".eml");
        std::fs::write(dir.join("gz").join(format!("{stem}.json.gz")), gz).expect("write gzip");
    }
    eprintln!("corpus {} written to {}", c.label, dir.display());
}

fn load_corpus() -> Corpus {
    let c = match std::env::var_os("STSGUARD_BENCH_CORPUS") {
        Some(dir) => load_generated(Path::new(&dir)),
        None => {
            let n = std::env::var("STSGUARD_BENCH_N")
                .ok()
                .map(|s| s.parse().expect("STSGUARD_BENCH_N is a number"))
                .unwrap_or(DEFAULT_MAILS);
            build_fixture_corpus(n)
        }
    };
    if let Some(dir) = std::env::var_os("STSGUARD_BENCH_DUMP") {
        dump(&c, Path::new(&dir));
    }
    let mail_bytes: usize = c.mails.iter().map(Vec::len).sum();
    let gz_bytes: usize = c.gz.iter().map(Vec::len).sum();
    let json_bytes: usize = c.gz.iter().map(|g| gunzip(g).len()).sum();
    eprintln!(
        "corpus {}: {} mails, {mail_bytes} mail bytes, {gz_bytes} gzip bytes, {json_bytes} JSON bytes",
        c.label,
        c.mails.len()
    );
    c
}

// ---------------------------------------------------------------------------
// Passes.

/// What one pass did; compared with the expected result after every pass.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    reports: usize,
    rejections: usize,
    written: usize,
    duplicates: usize,
    sessions: u64,
}

/// The fixed inputs of the pipeline.
struct Pipeline {
    ctxs: Vec<InputContext>,
    payload_ctxs: Vec<InputContext>,
    config: IngestConfig,
    received_at: DateTime<Utc>,
}

impl Pipeline {
    fn new(c: &Corpus) -> Self {
        Pipeline {
            ctxs: c
                .names
                .iter()
                .map(|n| InputContext {
                    channel: "file".into(),
                    input: Some(n.clone()),
                    ..Default::default()
                })
                .collect(),
            payload_ctxs: (0..c.gz.len())
                .map(|i| InputContext {
                    channel: "file".into(),
                    input: Some(format!("{i:05}.json.gz")),
                    ..Default::default()
                })
                .collect(),
            config: IngestConfig::default(),
            received_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        }
    }

    fn prepare(&self, raw: &[u8], ctx: &InputContext, t: &mut Tally) -> ingest::Prepared {
        self.prepare_kind(raw, InputKind::Mail, ctx, t)
    }

    fn prepare_kind(
        &self,
        raw: &[u8],
        kind: InputKind,
        ctx: &InputContext,
        t: &mut Tally,
    ) -> ingest::Prepared {
        let p = ingest::prepare(raw, kind, ctx, &self.config, self.received_at);
        t.reports += p.reports.len();
        t.rejections += usize::from(p.rejection.is_some());
        t.sessions += p
            .reports
            .iter()
            .flat_map(|(_, r)| &r.policies)
            .map(|p| p.successful + p.failed)
            .sum::<u64>();
        p
    }

    /// `prepare` + `store_prepared` into a fresh memory store, for every mail.
    fn full(&self, rt: &tokio::runtime::Runtime, c: &Corpus) -> Tally {
        let store = MemoryStore::new();
        let mut t = Tally::default();
        rt.block_on(async {
            for (raw, ctx) in c.mails.iter().zip(&self.ctxs) {
                let p = self.prepare(raw, ctx, &mut t);
                let out = ingest::store_prepared(&store, p).await.expect("memory store");
                t.written += out.written.len();
                t.duplicates += out.duplicates.len();
            }
        });
        assert_eq!(store.len(), t.written);
        t
    }

    /// The same pipeline over the bare gzip payloads (no MIME): the work of the
    /// bare bound (gunzip + JSON parse) plus normalization, keys, serialization
    /// and the store.
    fn payload_full(&self, rt: &tokio::runtime::Runtime, c: &Corpus) -> Tally {
        let store = MemoryStore::new();
        let mut t = Tally::default();
        rt.block_on(async {
            for (gz, ctx) in c.gz.iter().zip(&self.payload_ctxs) {
                let p = self.prepare_kind(gz, InputKind::Payload, ctx, &mut t);
                let out = ingest::store_prepared(&store, p).await.expect("memory store");
                t.written += out.written.len();
                t.duplicates += out.duplicates.len();
            }
        });
        assert_eq!(store.len(), t.written);
        t
    }

    /// `prepare` alone, for every mail; the written and duplicate counts are
    /// left at zero.
    fn prepare_only(&self, c: &Corpus) -> Tally {
        let mut t = Tally::default();
        for (raw, ctx) in c.mails.iter().zip(&self.ctxs) {
            black_box(self.prepare(raw, ctx, &mut t));
        }
        t
    }
}

/// Sum of total-successful + total-failure session counts over all policies (as
/// `rust-bound` computes it).
fn sessions(v: &Value) -> u64 {
    let mut s = 0;
    if let Some(ps) = v.get("policies").and_then(Value::as_array) {
        for p in ps {
            let sm = &p["summary"];
            s += sm["total-successful-session-count"].as_u64().unwrap_or(0);
            s += sm["total-failure-session-count"].as_u64().unwrap_or(0);
        }
    }
    s
}

fn gunzip_parse(gz: &[u8], buf: &mut Vec<u8>) -> Value {
    buf.clear();
    MultiGzDecoder::new(gz).read_to_end(buf).expect("gunzip");
    serde_json::from_slice::<Value>(buf).expect("json")
}

/// flate2 + `serde_json::Value` over the gzip payloads.
fn bare_pass(c: &Corpus, buf: &mut Vec<u8>) -> (usize, u64) {
    let (mut n, mut s) = (0, 0);
    for g in &c.gz {
        s += sessions(&gunzip_parse(g, buf));
        n += 1;
    }
    (n, s)
}

/// mail-parser + attachment + flate2 + `serde_json::Value` over the mails.
fn mime_pass(c: &Corpus, buf: &mut Vec<u8>) -> (usize, u64) {
    let parser = MessageParser::default();
    let (mut n, mut s) = (0, 0);
    for raw in &c.mails {
        let msg = parser.parse(raw).expect("mime parse");
        let att = msg
            .attachments()
            .find(|p| is_tlsrpt_attachment(p))
            .expect("no tlsrpt attachment");
        s += sessions(&gunzip_parse(att.contents(), buf));
        n += 1;
    }
    (n, s)
}

// ---------------------------------------------------------------------------
// Benchmarks.

fn ingest_benches(cr: &mut Criterion) {
    let c = load_corpus();
    let n = c.mails.len();
    let p = Pipeline::new(&c);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let mut buf = Vec::with_capacity(1 << 16);

    // Untimed checks: the pipeline must take every mail, and the bounds must see
    // the same reports. A report-id sent twice by the same organization is the same
    // report delivered twice: it is serialized twice and stored once.
    let distinct =
        c.gz.iter()
            .map(|g| {
                let v: Value = serde_json::from_slice(&gunzip(g)).expect("payload is JSON");
                let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
                (field("organization-name"), field("report-id"))
            })
            .collect::<std::collections::HashSet<_>>()
            .len();
    let full = p.full(&rt, &c);
    let expected = Tally {
        reports: n,
        rejections: 0,
        written: distinct,
        duplicates: n - distinct,
        sessions: c.sessions.unwrap_or(full.sessions),
    };
    if full != expected {
        for (raw, ctx) in c.mails.iter().zip(&p.ctxs) {
            let one = ingest::prepare(raw, InputKind::Mail, ctx, &p.config, p.received_at);
            if let Some((_, r)) = &one.rejection {
                panic!("{:?} rejected: {} ({})", ctx.input, r.reason, r.detail);
            }
        }
        panic!("full pipeline: got {full:?}, expected {expected:?}");
    }
    let prepared = Tally {
        written: 0,
        duplicates: 0,
        ..expected
    };
    assert_eq!(p.prepare_only(&c), prepared, "prepare only");
    assert_eq!(p.payload_full(&rt, &c), expected, "payload pipeline");
    let bare = bare_pass(&c, &mut buf);
    let mime = mime_pass(&c, &mut buf);
    assert_eq!(bare.0, n, "bare bound reports");
    assert_eq!(mime, bare, "MIME bound and bare bound disagree");
    if let Some(s) = c.sessions {
        assert_eq!(bare.1, s, "bare bound sessions");
    }

    let secs = std::env::var("STSGUARD_BENCH_SECS")
        .ok()
        .map(|s| s.parse().expect("STSGUARD_BENCH_SECS is a number"))
        .unwrap_or(8.0);
    let mut g = cr.benchmark_group(format!("ingest/{}", c.label));
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs_f64(secs))
        .throughput(Throughput::Elements(n as u64));

    g.bench_function("full_pipeline", |b| {
        b.iter(|| assert_eq!(p.full(&rt, &c), expected));
    });
    g.bench_function("payload_pipeline", |b| {
        b.iter(|| assert_eq!(p.payload_full(&rt, &c), expected));
    });
    g.bench_function("prepare_only", |b| {
        b.iter(|| assert_eq!(p.prepare_only(&c), prepared));
    });
    g.bench_function("bare_bound", |b| {
        b.iter(|| assert_eq!(bare_pass(&c, &mut buf), bare));
    });
    g.bench_function("mime_bound", |b| {
        b.iter(|| assert_eq!(mime_pass(&c, &mut buf), bare));
    });
    g.finish();
}

fn main() {
    let mut cr = Criterion::default().configure_from_args();
    ingest_benches(&mut cr);
    cr.final_summary();
}
