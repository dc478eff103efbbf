#!/usr/bin/env bash
# The ingest and receive Lambdas' dependency trees: the library with features
# s3 (and sns for ingest's alert messages) only, so neither the SES client, nor
# the linter (toml, the plan reader), nor the CLI (clap, anyhow, indicatif),
# nor the live probes are compiled into them. Prints the crate counts of the
# three Lambda functions.
set -euo pipefail
cd "$(dirname "$0")/.."
tree() { cargo tree -p "$1" -e normal,build --prefix none | sed 's/ (\*)$//' | sort -u; }
digest=$(tree stsguard-digest)
echo "stsguard-digest: $(wc -l <<<"$digest") crates"
for fn in stsguard-ingest stsguard-receive; do
  deps=$(tree "$fn")
  echo "$fn: $(wc -l <<<"$deps") crates"
  bad=$(grep -E '^(aws-sdk-ses|clap|anyhow|indicatif|toml|hickory-resolver|reqwest|x509-parser) ' <<<"$deps" || true)
  if [ -n "$bad" ]; then
    echo "$fn must not depend on:"; echo "$bad"; exit 1
  fi
  features=$(cargo tree -p "$fn" -e features --prefix none -i stsguard | grep -o '^stsguard feature "[a-z0-9]*"' | sed 's/^stsguard //' | sort -u | tr '\n' ' ')
  echo "stsguard features in $fn: ${features:-none}"
  if grep -qE 'feature "(lint|live|ses)"' <<<"$features"; then
    echo "$fn must use the library without lint, live or ses"; exit 1
  fi
done
