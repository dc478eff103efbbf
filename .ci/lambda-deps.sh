#!/usr/bin/env bash
# The ingest Lambda's dependency tree: the library with feature s3 only, so
# neither the SES client, nor the linter (toml, the plan reader), nor the CLI
# (clap, anyhow, indicatif), nor the live probes are compiled into it. Prints
# the crate counts of both Lambda functions.
set -euo pipefail
cd "$(dirname "$0")/.."
tree() { cargo tree -p "$1" -e normal,build --prefix none | sed 's/ (\*)$//' | sort -u; }
ingest=$(tree stsguard-ingest)
digest=$(tree stsguard-digest)
echo "stsguard-ingest: $(wc -l <<<"$ingest") crates; stsguard-digest: $(wc -l <<<"$digest") crates"
bad=$(grep -E '^(aws-sdk-ses|clap|anyhow|indicatif|toml|hickory-resolver|reqwest|x509-parser) ' <<<"$ingest" || true)
if [ -n "$bad" ]; then
  echo "the ingest Lambda must not depend on:"; echo "$bad"; exit 1
fi
features=$(cargo tree -p stsguard-ingest -e features --prefix none -i stsguard | grep -o '^stsguard feature "[a-z0-9]*"' | sed 's/^stsguard //' | sort -u | tr '\n' ' ')
echo "stsguard features in the ingest Lambda: ${features:-none}"
if grep -qE 'feature "(lint|live|ses)"' <<<"$features"; then
  echo "the ingest Lambda must use the library with feature s3 only"; exit 1
fi
