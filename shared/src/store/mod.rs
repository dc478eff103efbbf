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
    /// Writes several objects put-if-absent, `concurrency` at a time, and says
    /// what happened to each, in the order of `items`. The keys must be
    /// distinct (for a repeated key, which body is written is unspecified).
    /// Same contract as [`ObjectStore::put_if_absent`] for each object; on an
    /// error some objects may have been written and others not (a retry skips
    /// the written ones). The directory store groups the flushes of a call.
    fn put_many_if_absent(
        &self,
        items: Vec<(String, Vec<u8>)>,
        concurrency: usize,
    ) -> impl Future<Output = Result<Vec<PutOutcome>, StoreError>> + Send {
        use futures_util::stream::{self, StreamExt, TryStreamExt};
        async move {
            stream::iter(items)
                .map(|(k, body)| async move { self.put_if_absent(&k, body).await })
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

/// A directory tree: one file per object. Writes are atomic and durable: a
/// temporary file is written and flushed to the disk, then moved into place
/// without replacing (a rename that fails if the target exists, or a hard
/// link), and the directory entry is flushed before the write returns. A file
/// under its key is therefore always whole, and a crash loses at most writes
/// that had not returned (a re-run writes them again; temporary files left by
/// a crash, named `.tmp-*`, are never listed). Its I/O is blocking; it is meant
/// for the CLI and tests.
///
/// [`ObjectStore::put_many_if_absent`] groups the flushes: all temporary files
/// of the call are written, one filesystem flush makes them durable, they are
/// moved into place, and a second flush makes the names durable. Two flushes
/// per call instead of two per object is what lets a backfill run at the
/// disk's speed rather than its flush latency.
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
        let tmp = temp_name(dir);
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
        self.put_many_sync(vec![(key.to_owned(), body.to_vec())])
            .map(|o| o.into_iter().next().unwrap_or(PutOutcome::AlreadyExists))
    }

    /// Put-if-absent of many objects with two filesystem flushes in all (see
    /// the type's documentation). The temporary files are written on several
    /// threads (creating files and directories is the kernel's work, and a
    /// backfill creates thousands); they are moved into place in order.
    fn put_many_sync(&self, items: Vec<(String, Vec<u8>)>) -> Result<Vec<PutOutcome>, StoreError> {
        let mut out = vec![PutOutcome::AlreadyExists; items.len()];
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZeroUsize::get)
            .min(items.len().div_ceil(STAGE_PER_THREAD))
            .max(1);
        let per = items.len().div_ceil(threads).max(1);
        let parts = if threads == 1 {
            vec![self.stage(&items, 0)]
        } else {
            self.in_chunks(&items, per, "write", |first, chunk| self.stage(chunk, first))
        };
        // Every part is kept until here, so that a failure removes the
        // temporary files of all of them.
        let mut staged = Staged::default();
        let mut failed = None;
        for part in parts {
            match part {
                Ok(mut p) => {
                    staged.files.append(&mut p.files);
                    staged.dirs.append(&mut p.dirs);
                }
                Err(e) => failed = failed.or(Some(e)),
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        if staged.files.is_empty() {
            return Ok(out);
        }
        flush(
            &self.root,
            staged.files.iter().map(|(_, tmp, _)| tmp.as_path()),
            false,
        )?;
        let files = std::mem::take(&mut staged.files);
        let mut rest = files.into_iter();
        for (i, tmp, path) in rest.by_ref() {
            match move_into_place(&tmp, &path) {
                Ok(Moved::Renamed) => out[i] = PutOutcome::Created,
                Ok(Moved::Linked) => {
                    out[i] = PutOutcome::Created;
                    let _ = std::fs::remove_file(&tmp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let _ = std::fs::remove_file(&tmp);
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    staged.files.extend(rest);
                    return Err(io_error("link", &path)(e));
                }
            }
        }
        staged.dirs.sort();
        staged.dirs.dedup();
        flush(&self.root, staged.dirs.iter().map(PathBuf::as_path), true)?;
        Ok(out)
    }

    /// Runs `work` on each chunk of `per` items on a thread of its own (with
    /// the index of the chunk's first item) and returns the results in order;
    /// a thread that panicked is an error of `op`.
    fn in_chunks<T: Sync, R: Send>(
        &self,
        items: &[T],
        per: usize,
        op: &'static str,
        work: impl Fn(usize, &[T]) -> Result<R, StoreError> + Sync,
    ) -> Vec<Result<R, StoreError>> {
        let work = &work;
        std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .chunks(per.max(1))
                .enumerate()
                .map(|(n, chunk)| scope.spawn(move || work(n * per, chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::Io {
                            op,
                            path: self.root.display().to_string(),
                            source: io::Error::other("a thread of the store panicked"),
                        })
                    })
                })
                .collect()
        })
    }

    /// Writes the temporary files of `items` (indexes from `first`) whose key
    /// holds nothing yet, creating directories as needed.
    fn stage(&self, items: &[(String, Vec<u8>)], first: usize) -> Result<Staged, StoreError> {
        let mut staged = Staged::default();
        // Directories known to exist, and those this call created (empty, so
        // no key under them needs to be looked up).
        let mut known = std::collections::HashMap::<PathBuf, bool>::new();
        for (n, (key, body)) in items.iter().enumerate() {
            let path = self.path(key)?;
            let dir = path.parent().unwrap_or(&self.root).to_owned();
            let fresh = match known.get(&dir) {
                Some(&fresh) => fresh,
                None => {
                    let fresh = make_dir(&dir).map_err(io_error("create directory", &dir))?;
                    known.insert(dir.clone(), fresh);
                    staged.dirs.push(dir.clone());
                    fresh
                }
            };
            // A directory created here holds only what this call put there.
            if !fresh && path.exists() {
                continue;
            }
            let tmp = temp_name(&dir);
            let write = || -> io::Result<()> {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(body)
            };
            if let Err(e) = write() {
                let _ = std::fs::remove_file(&tmp);
                return Err(io_error("write", &tmp)(e));
            }
            staged.files.push((first + n, tmp, path));
        }
        Ok(staged)
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

/// A fresh temporary file name in `dir` (never listed: `.tmp-` names are skipped).
fn temp_name(dir: &Path) -> PathBuf {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    dir.join(format!(
        ".tmp-{}-{}",
        PID.get_or_init(std::process::id),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Keys written under one directory by one staging thread, at least.
const STAGE_PER_THREAD: usize = 64;

/// Temporary files not yet moved into place (index, temporary path, final
/// path; removed if the write fails), and the directories they are in.
#[derive(Default)]
struct Staged {
    files: Vec<(usize, PathBuf, PathBuf)>,
    dirs: Vec<PathBuf>,
}

impl Drop for Staged {
    fn drop(&mut self) {
        for (_, tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Creates `dir` and its missing parents; `true` when `dir` itself was
/// created here (so it is empty), `false` when it existed.
fn make_dir(dir: &Path) -> io::Result<bool> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(parent) = dir.parent() {
                std::fs::create_dir_all(parent)?;
            }
            match std::fs::create_dir(dir) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Makes the given files (or, with `dirs`, directories' entries) durable. A
/// few are synced one by one; for more, on Linux, one `syncfs` of the store's
/// filesystem does it for all of them at once.
fn flush<'p>(root: &Path, paths: impl Iterator<Item = &'p Path>, dirs: bool) -> Result<(), StoreError> {
    let paths: Vec<&Path> = paths.collect();
    if paths.len() > FLUSH_ONE_BY_ONE && sync_filesystem(root).map_err(io_error("flush", root))? {
        return Ok(());
    }
    for p in paths {
        let sync = || -> io::Result<()> {
            let f = std::fs::File::open(p)?;
            if dirs {
                f.sync_all()
            } else {
                f.sync_data()
            }
        };
        sync().map_err(io_error("flush", p))?;
    }
    Ok(())
}

/// Flushes the whole filesystem that holds `root`; `false` where this is not
/// available.
#[cfg(target_os = "linux")]
fn sync_filesystem(root: &Path) -> io::Result<bool> {
    let f = std::fs::File::open(root)?;
    rustix::fs::syncfs(&f)?;
    Ok(true)
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_root: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Up to this many files are flushed one by one rather than with the whole
/// filesystem (a single report, a digest).
const FLUSH_ONE_BY_ONE: usize = 4;

/// How a temporary file was moved into place.
enum Moved {
    /// Renamed: the temporary name is gone.
    Renamed,
    /// Hard-linked: the temporary name is still there, for the caller to remove.
    Linked,
}

/// Moves a temporary file to `path` unless something is there already
/// (`AlreadyExists` then): one rename that does not replace where the
/// filesystem has it, a hard link otherwise.
fn move_into_place(tmp: &Path, path: &Path) -> io::Result<Moved> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, tmp, CWD, path, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(Moved::Renamed),
            Err(e) if e == rustix::io::Errno::EXIST => {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists))
            }
            // Filesystems without the flag fall back to a link.
            Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {}
            Err(e) => return Err(e.into()),
        }
    }
    std::fs::hard_link(tmp, path).map(|()| Moved::Linked)
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

    /// All objects of the call in one group: two filesystem flushes in all
    /// (`concurrency` is not used: the writes are local and grouped).
    async fn put_many_if_absent(
        &self,
        items: Vec<(String, Vec<u8>)>,
        _concurrency: usize,
    ) -> Result<Vec<PutOutcome>, StoreError> {
        self.put_many_sync(items)
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
        let parts = self.in_chunks(keys, per, "read", |_, chunk| {
            chunk
                .iter()
                .map(|key| self.read_sync(key))
                .collect::<Result<Vec<_>, _>>()
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
