//! Grouped writes (`ingest::store_batch`, `put_many_if_absent`) give what
//! storing each input in turn gives: the same outcomes (written, duplicate,
//! conflict, rejected and whether the rejection was stored before) and the
//! same objects, in the memory store and the directory store, whatever the
//! group size, with repeated reports inside a group and across groups.

use std::path::{Path, PathBuf};

use stsguard::ingest::{self, IngestConfig, InputContext, InputKind, Outcome, Prepared};
use stsguard::store::{DirStore, MemoryStore, ObjectStore, PutOutcome};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every report fixture, each twice (once right after itself, once far
/// later), a report-id delivered again with another content, and an
/// unusable input twice.
fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for sub in ["corpus", "multi-domain", "mail"] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(fixtures().join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .is_some_and(|e| e == "json" || e == "eml" || e == "gz")
            })
            .collect();
        names.sort();
        for p in names {
            files.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    assert!(files.len() >= 10, "fixtures found: {}", files.len());
    let base = fixtures().join("corpus/rfc8460-example-mxhost-string.json");
    let mut changed: serde_json::Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    let n = &mut changed["policies"][0]["summary"]["total-successful-session-count"];
    *n = serde_json::json!(n.as_u64().unwrap() + 1);
    let garbage = ("not-a-report.json".to_owned(), b"{\"hello\": 1}".to_vec());

    let mut out = Vec::new();
    out.push(garbage.clone());
    for (i, f) in files.iter().enumerate() {
        out.push(f.clone());
        if i % 3 == 0 {
            out.push(f.clone());
        }
    }
    out.push(("changed.json".into(), serde_json::to_vec(&changed).unwrap()));
    out.extend(files.iter().step_by(2).cloned());
    out.push(garbage);
    out
}

fn prepare_all(inputs: &[(String, Vec<u8>)]) -> Vec<Prepared> {
    let now = chrono::DateTime::from_timestamp(1_731_121_967, 0).unwrap();
    inputs
        .iter()
        .map(|(name, raw)| {
            let ctx = InputContext {
                channel: "file".into(),
                input: Some(name.clone()),
                ..InputContext::default()
            };
            ingest::prepare(
                raw,
                InputKind::from_file_name(name),
                &ctx,
                &IngestConfig::default(),
                now,
            )
        })
        .collect()
}

fn snapshot<S: ObjectStore>(store: &S) -> Vec<(String, Vec<u8>)> {
    block_on(async {
        let keys = store.list("").await.unwrap();
        let bodies = store.get_many(&keys, 4).await.unwrap();
        keys.into_iter()
            .zip(bodies.into_iter().map(Option::unwrap))
            .collect()
    })
}

fn one_by_one<S: ObjectStore>(store: &S, inputs: &[(String, Vec<u8>)]) -> Vec<Outcome> {
    prepare_all(inputs)
        .into_iter()
        .map(|p| block_on(ingest::store_prepared(store, p)).unwrap())
        .collect()
}

fn grouped<S: ObjectStore>(store: &S, inputs: &[(String, Vec<u8>)], group: usize) -> Vec<Outcome> {
    let mut prepared = prepare_all(inputs);
    let mut out = Vec::new();
    while !prepared.is_empty() {
        let rest = prepared.split_off(group.min(prepared.len()));
        let serialized = prepared.into_iter().map(Prepared::serialize).collect();
        out.extend(block_on(ingest::store_batch(store, serialized, 3)).unwrap());
        prepared = rest;
    }
    out
}

fn summary(outcomes: &[Outcome]) -> (usize, usize, usize, usize, usize) {
    let count = |f: fn(&Outcome) -> usize| outcomes.iter().map(f).sum::<usize>();
    (
        count(|o| o.written.len()),
        count(|o| o.duplicates.len()),
        count(|o| o.conflicts.len()),
        count(|o| usize::from(matches!(o.rejected, Some((_, _, false))))),
        count(|o| usize::from(matches!(o.rejected, Some((_, _, true))))),
    )
}

#[test]
fn grouped_writes_equal_writes_one_by_one() {
    let inputs = inputs();
    let reference = MemoryStore::new();
    let want = one_by_one(&reference, &inputs);
    let want_objects = snapshot(&reference);
    let (written, duplicates, conflicts, rejected, rejected_again) = summary(&want);
    // The inputs exercise every outcome.
    assert!(written >= 10, "{:?}", summary(&want));
    assert!(duplicates >= 5, "{:?}", summary(&want));
    assert_eq!(conflicts, 1, "{:?}", summary(&want));
    assert!(rejected >= 1 && rejected_again >= 1, "{:?}", summary(&want));

    for group in [1, 2, 3, 7, inputs.len()] {
        let mem = MemoryStore::new();
        let got = grouped(&mem, &inputs, group);
        assert_eq!(got, want, "memory store, groups of {group}");
        assert_eq!(snapshot(&mem), want_objects, "memory store, groups of {group}");

        let dir = tempfile::tempdir().unwrap();
        let disk = DirStore::open(dir.path()).unwrap();
        let got = grouped(&disk, &inputs, group);
        assert_eq!(got, want, "directory store, groups of {group}");
        assert_eq!(
            snapshot(&disk),
            want_objects,
            "directory store, groups of {group}"
        );

        // Everything again: nothing new is written, everything is a duplicate
        // or a conflict already recorded, every rejection was stored before.
        let again = grouped(&disk, &inputs, group);
        let (w, d, c, r, ra) = summary(&again);
        assert_eq!((w, r), (0, 0), "directory store again, groups of {group}");
        assert_eq!(d + c, duplicates + conflicts + written, "groups of {group}");
        assert_eq!(ra, rejected + rejected_again);
        assert_eq!(
            snapshot(&disk),
            want_objects,
            "directory store again, groups of {group}"
        );
        // No temporary file is left behind.
        let leftovers = walk(dir.path())
            .into_iter()
            .filter(|p| p.contains(".tmp-"))
            .count();
        assert_eq!(leftovers, 0);
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn put_many_if_absent_says_what_it_did_for_each_key_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let disk = DirStore::open(dir.path()).unwrap();
    let mem = MemoryStore::new();
    block_on(async {
        for (name, store) in [("disk", &disk as &dyn Probe), ("memory", &mem as &dyn Probe)] {
            // More than a handful (the grouped flush), across directories.
            let first: Vec<(String, Vec<u8>)> = (0..40)
                .map(|i| (format!("a/d{}/k{i}.json", i % 5), format!("one {i}").into_bytes()))
                .collect();
            let got = store.put_many(first.clone()).await;
            assert!(got.iter().all(|o| *o == PutOutcome::Created), "{name}");
            // Half of them again with other bodies, interleaved with new keys.
            let second: Vec<(String, Vec<u8>)> = (20..60)
                .map(|i| (format!("a/d{}/k{i}.json", i % 5), format!("two {i}").into_bytes()))
                .collect();
            let got = store.put_many(second).await;
            for (i, o) in (20..60).zip(got) {
                let want = if i < 40 {
                    PutOutcome::AlreadyExists
                } else {
                    PutOutcome::Created
                };
                assert_eq!(o, want, "{name}: key {i}");
            }
            // The first body stays.
            assert_eq!(store.read("a/d1/k21.json").await, b"one 21".to_vec(), "{name}");
            assert_eq!(store.read("a/d1/k41.json").await, b"two 41".to_vec(), "{name}");
            assert!(store.put_many(Vec::new()).await.is_empty());
        }
        // A bad key fails the call and leaves no temporary file.
        let bad = vec![
            ("ok/x.json".to_owned(), b"x".to_vec()),
            ("../escape".to_owned(), b"y".to_vec()),
        ];
        assert!(disk.put_many_if_absent(bad, 1).await.is_err());
        assert!(walk(dir.path()).iter().all(|p| !p.contains(".tmp-")));
    });
}

/// The two stores behind one object-safe face, for the test above.
trait Probe {
    fn put_many(
        &self,
        items: Vec<(String, Vec<u8>)>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<PutOutcome>> + '_>>;
    fn read<'a>(&'a self, key: &'a str)
        -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<u8>> + 'a>>;
}

impl<S: ObjectStore> Probe for S {
    fn put_many(
        &self,
        items: Vec<(String, Vec<u8>)>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<PutOutcome>> + '_>> {
        Box::pin(async move { self.put_many_if_absent(items, 4).await.unwrap() })
    }
    fn read<'a>(
        &'a self,
        key: &'a str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Vec<u8>> + 'a>> {
        Box::pin(async move { self.get(key).await.unwrap().unwrap() })
    }
}
