//! Object storage behind a small trait: local directory, memory, and (with the
//! `aws` feature) S3.
//!
//! Keys are `/`-separated relative paths. Writes are put-if-absent, so a report
//! delivered twice is stored once and a retried invocation never overwrites.

// An edge module: it touches the filesystem by design.
#![allow(clippy::disallowed_methods)]

#[cfg(feature = "s3")]
pub mod s3;

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// What a put-if-absent did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The object was written.
    Created,
    /// An object already existed under the key; nothing was written.
    AlreadyExists,
}

/// A storage failure. All are transient from the pipeline's point of view except
/// [`StoreError::InvalidKey`], which is a bug in the caller.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key is not a safe relative path.
    #[error("invalid object key {key:?}: {why}")]
    InvalidKey {
        /// The key.
        key: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// An I/O error of the local store.
    #[error("{op} {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// An error of a remote store. The message names the operation and key; the
    /// backend's own error is the [`source`](std::error::Error::source), so print
    /// the whole chain (anyhow's `{:#}`, or [`ErrorChain`]) to see why.
    #[error("{op} {key}")]
    Remote {
        /// The operation.
        op: &'static str,
        /// The key or prefix.
        key: String,
        /// The cause: the backend's error (for S3, the SDK's).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

/// Prints an error followed by its causes (each
/// [`source`](std::error::Error::source) in turn), separated by `: `, as
/// anyhow's `{:#}` does. For the places that print a [`StoreError`], or an
/// error wrapping one, without anyhow: a [`StoreError::Remote`]'s own message
/// names only the operation and key.
#[derive(Debug, Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

/// Get, put-if-absent and list by prefix.
pub trait ObjectStore: Send + Sync {
    /// Reads an object whole; `None` when absent. Meant for the objects this
    /// store's own writers produced (bounded by the caps they applied); input from
    /// outside, such as raw mail, is read with a capped reader instead
    /// ([`RawSource::get_capped`], the CLI's capped file read).
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, StoreError>> + Send;
    /// Writes an object unless one exists under the key.
    fn put_if_absent(
        &self,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;
    /// Writes an object, replacing any object under the key (atomically: a reader
    /// sees the old or the new body, never a mix). For objects that are recomputed,
    /// such as a day's digest after late reports.
    fn put(&self, key: &str, body: Vec<u8>) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Reads several objects, `concurrency` at a time, in the order of `keys`
    /// (`None` for an absent one). Same contract as [`ObjectStore::get`].
    fn get_many(
        &self,
        keys: &[String],
        concurrency: usize,
    ) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, StoreError>> + Send {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        async move {
            stream::iter(keys.iter().cloned())
                .map(|k| async move { self.get(&k).await })
                .buffered(concurrency.max(1))
                .try_collect()
                .await
        }
    }
    /// Lists the keys under a prefix, sorted.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
}

/// What [`RawSource::get_capped`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// The whole object, at most the cap.
    Whole(Vec<u8>),
    /// The object is larger than the cap: it was hashed, not kept.
    TooLarge {
        /// SHA-256 of the whole object, lower-case hex.
        sha256: String,
        /// Its size in bytes.
        bytes: u64,
    },
}

/// Where raw input comes from: objects named as events name them, by bucket and
/// key (any key: not under a store prefix, not checked as a store key), read
/// under a cap. The ingest Lambda reads the raw mail of each event through it.
pub trait RawSource: Send + Sync {
    /// Reads object `key` of `bucket`, keeping at most `cap` bytes. A larger
    /// object is [`Fetched::TooLarge`] with the SHA-256 and size of the whole
    /// object. `None` when absent.
    fn get_capped(
        &self,
        bucket: &str,
        key: &str,
        cap: usize,
    ) -> impl Future<Output = Result<Option<Fetched>, StoreError>> + Send;
}

/// Checks that a key is a safe relative path: non-empty `/`-separated segments,
/// none `.` or `..`, no backslash or NUL, no leading `/`.
pub fn check_key(key: &str) -> Result<(), StoreError> {
    let why = if key.is_empty() {
        Some("empty")
    } else if key.starts_with('/') {
        Some("absolute")
    } else if key.contains(['\\', '\0']) {
        Some("contains a backslash or NUL")
    } else if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        Some("has an empty, `.` or `..` segment")
    } else {
        None
    };
    match why {
        Some(why) => Err(StoreError::InvalidKey {
            key: key.to_owned(),
            why,
        }),
        None => Ok(()),
    }
}

/// A directory tree: one file per object. Writes are atomic (temporary file,
/// then a hard link that fails if the target exists). Its I/O is blocking; it is
/// meant for the CLI and tests.
#[derive(Debug)]
pub struct DirStore {
    root: PathBuf,
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A `map_err` for an I/O failure of `op` on `p`.
fn io_error(op: &'static str, p: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let path = p.display().to_string();
    move |source| StoreError::Io { op, path, source }
}

impl DirStore {
    /// Opens (and creates if needed) a store rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(&root).map_err(|source| StoreError::Io {
            op: "create store directory",
            path: root.display().to_string(),
            source,
        })?;
        Ok(DirStore { root })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }

    /// Writes `body` to a new temporary file (synced) in the directory of
    /// `path`, creating the directory; returns the temporary file's path.
    fn write_temp(&self, path: &Path, body: &[u8]) -> Result<PathBuf, StoreError> {
        let dir = path.parent().unwrap_or(&self.root);
        std::fs::create_dir_all(dir).map_err(io_error("create directory", dir))?;
        let tmp = dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let write = || -> io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(body)?;
            f.sync_data()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_error("write", &tmp)(e));
        }
        Ok(tmp)
    }

    fn put_sync(&self, key: &str, body: &[u8]) -> Result<PutOutcome, StoreError> {
        let path = self.path(key)?;
        if path.exists() {
            return Ok(PutOutcome::AlreadyExists);
        }
        let tmp = self.write_temp(&path, body)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => Ok(PutOutcome::Created),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(PutOutcome::AlreadyExists),
            Err(e) => Err(io_error("link", &path)(e)),
        }
    }

    fn replace_sync(&self, key: &str, body: &[u8]) -> Result<(), StoreError> {
        let path = self.path(key)?;
        let tmp = self.write_temp(&path, body)?;
        std::fs::rename(&tmp, &path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io_error("write", &path)(e)
        })
    }

    fn read_sync(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.path(key)?;
        match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io {
                op: "read",
                path: path.display().to_string(),
                source,
            }),
        }
    }

    fn list_sync(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Start at the deepest directory the prefix names.
        let dir_part = prefix.rsplit_once('/').map_or("", |(d, _)| d);
        if !dir_part.is_empty() {
            check_key(dir_part)?;
        }
        let start = self.root.join(dir_part);
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(StoreError::Io {
                        op: "list",
                        path: dir.display().to_string(),
                        source,
                    })
                }
            };
            for entry in entries {
                let entry = entry.map_err(|source| StoreError::Io {
                    op: "list",
                    path: dir.display().to_string(),
                    source,
                })?;
                let name = entry.file_name();
                let Some(name) = name.to_str() else { continue };
                if name.starts_with(".tmp-") {
                    continue;
                }
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(path);
                } else if let Ok(rel) = path.strip_prefix(&self.root) {
                    let key = rel
                        .components()
                        .map(|c| c.as_os_str().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join("/");
                    if key.starts_with(prefix) {
                        out.push(key);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

impl ObjectStore for DirStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read_sync(key)
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<PutOutcome, StoreError> {
        self.put_sync(key, &body)
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        self.replace_sync(key, &body)
    }

    /// Reads on up to `concurrency` threads (at most 16): with a cold page
    /// cache, small files are bound by the disk's latency, which parallel reads
    /// overlap.
    async fn get_many(
        &self,
        keys: &[String],
        concurrency: usize,
    ) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let threads = concurrency.clamp(1, 16).min(keys.len().max(1));
        let per = keys.len().div_ceil(threads).max(1);
        let read = |key: &String| self.read_sync(key);
        let parts: Vec<Result<Vec<Option<Vec<u8>>>, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = keys
                .chunks(per)
                .map(|chunk| scope.spawn(move || chunk.iter().map(read).collect()))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::Io {
                            op: "read",
                            path: self.root.display().to_string(),
                            source: io::Error::other("a reader thread panicked"),
                        })
                    })
                })
                .collect()
        });
        let mut out = Vec::with_capacity(keys.len());
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.list_sync(prefix)
    }
}

/// An in-memory store, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-updated.
        self.objects
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ObjectStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        check_key(key)?;
        Ok(self.lock().get(key).cloned())
    }

    async fn put_if_absent(&self, key: &str, body: Vec<u8>) -> Result<PutOutcome, StoreError> {
        check_key(key)?;
        let mut m = self.lock();
        if m.contains_key(key) {
            return Ok(PutOutcome::AlreadyExists);
        }
        m.insert(key.to_owned(), body);
        Ok(PutOutcome::Created)
    }

    async fn put(&self, key: &str, body: Vec<u8>) -> Result<(), StoreError> {
        check_key(key)?;
        self.lock().insert(key.to_owned(), body);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect())
    }
}

/// Raw objects of any bucket, each stored under `bucket/key` (for tests: put
/// the raw input with [`ObjectStore::put`]). The key read is not checked as a
/// store key, as events may name any key; one never stored is absent.
impl RawSource for MemoryStore {
    async fn get_capped(&self, bucket: &str, key: &str, cap: usize) -> Result<Option<Fetched>, StoreError> {
        let m = self.lock();
        Ok(m.get(&format!("{bucket}/{key}")).map(|body| {
            if body.len() > cap {
                Fetched::TooLarge {
                    sha256: crate::sha256_hex(body),
                    bytes: body.len() as u64,
                }
            } else {
                Fetched::Whole(body.clone())
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_remote_error_keeps_its_cause_as_the_source_and_the_chain_prints_it() {
        use std::error::Error as _;
        let err = StoreError::Remote {
            op: "put",
            key: "reports/v1/x.json".into(),
            source: Box::new(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "connection refused",
            )),
        };
        assert_eq!(err.to_string(), "put reports/v1/x.json");
        let cause = err.source().expect("a source");
        let io = cause
            .downcast_ref::<io::Error>()
            .expect("the backend's own error");
        assert_eq!(io.kind(), io::ErrorKind::ConnectionRefused);
        assert_eq!(
            ErrorChain(&err).to_string(),
            "put reports/v1/x.json: connection refused"
        );

        // Wrapped as callers wrap it, the cause is still printed, once.
        #[derive(Debug, thiserror::Error)]
        #[error("storage failed for b/k")]
        struct Wrapper(#[source] StoreError);
        assert_eq!(
            ErrorChain(&Wrapper(err)).to_string(),
            "storage failed for b/k: put reports/v1/x.json: connection refused"
        );
        let bad = check_key("../x").unwrap_err();
        assert_eq!(ErrorChain(&bad).to_string(), bad.to_string());
    }

    #[test]
    fn memory_raw_source_honours_the_cap_and_hashes_the_whole_object() {
        let mem = MemoryStore::new();
        let body = b"0123456789".to_vec();
        block_on(async {
            mem.put("mail/incoming/a b!", body.clone()).await.unwrap();
            assert_eq!(
                mem.get_capped("mail", "incoming/a b!", 10).await.unwrap(),
                Some(Fetched::Whole(body.clone()))
            );
            assert_eq!(
                mem.get_capped("mail", "incoming/a b!", 9).await.unwrap(),
                Some(Fetched::TooLarge {
                    sha256: crate::sha256_hex(&body),
                    bytes: 10
                })
            );
            assert_eq!(
                mem.get_capped("mail", "incoming/a b!", 0).await.unwrap(),
                Some(Fetched::TooLarge {
                    sha256: crate::sha256_hex(&body),
                    bytes: 10
                })
            );
            assert_eq!(mem.get_capped("other", "incoming/a b!", 10).await.unwrap(), None);
            assert_eq!(mem.get_capped("mail", "incoming/none", 10).await.unwrap(), None);
            assert_eq!(mem.get_capped("mail", "../x", 10).await.unwrap(), None);
            mem.put("mail/incoming/empty", Vec::new()).await.unwrap();
            assert_eq!(
                mem.get_capped("mail", "incoming/empty", 0).await.unwrap(),
                Some(Fetched::Whole(Vec::new()))
            );
        });
    }

    #[test]
    fn get_many_keeps_order_and_reports_absence_in_both_stores() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DirStore::open(dir.path()).unwrap();
        let mem = MemoryStore::new();
        let keys: Vec<String> = (0..100).map(|i| format!("a/b{}/k{i}.json", i % 7)).collect();
        block_on(async {
            for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 10 != 3) {
                disk.put_if_absent(k, i.to_string().into_bytes()).await.unwrap();
                mem.put_if_absent(k, i.to_string().into_bytes()).await.unwrap();
            }
            for conc in [1, 3, 16, 64] {
                for got in [
                    disk.get_many(&keys, conc).await.unwrap(),
                    mem.get_many(&keys, conc).await.unwrap(),
                ] {
                    assert_eq!(got.len(), keys.len());
                    for (i, body) in got.iter().enumerate() {
                        let want = (i % 10 != 3).then(|| i.to_string().into_bytes());
                        assert_eq!(body, &want, "key {i}, concurrency {conc}");
                    }
                }
            }
            assert!(disk.get_many(&[], 8).await.unwrap().is_empty());
            let bad = vec!["ok.json".to_owned(), "../escape".to_owned()];
            assert!(matches!(
                disk.get_many(&bad, 4).await,
                Err(StoreError::InvalidKey { .. })
            ));
        });
    }
}
