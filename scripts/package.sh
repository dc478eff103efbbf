#!/usr/bin/env bash
# Builds the Lambda functions in release mode and writes the deployment zips
# that the Terraform module in infra/ expects:
#
#   dist/stsguard-ingest.zip   (functions/ingest, crate stsguard-ingest)
#   dist/stsguard-digest.zip   (functions/digest, crate stsguard-digest)
#   dist/stsguard-receive.zip  (functions/receive, crate stsguard-receive; used
#                               only with the module's https_receiver = true)
#
# Each zip holds one executable file, `bootstrap`, at its root (Lambda runtime
# provided.al2023). Whichever of the crates exist in the workspace are
# packaged; the script fails if none does.
#
# Usage: scripts/package.sh [--arch x86_64|arm64] [--builder auto|cargo-lambda|cargo]
#                           [--out DIR] [--dry-run]
#
#   --arch      instruction set of the binaries (default: this machine's). Set the
#               module's `architecture` variable to the same value.
#   --builder   auto (default): `cargo lambda build` when cargo-lambda is installed,
#               else `cargo build`. cargo-lambda cross-compiles for arm64 with zig;
#               plain cargo builds arm64 only with the aarch64-unknown-linux-gnu
#               target and a cross linker (see docs/deploy.md).
#   --out       output directory (default: dist/ at the repository root).
#   --dry-run   print the build commands instead of running them.
#
# The zips are reproducible (fixed timestamps), so Terraform's source_code_hash
# changes only when a binary does.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }

host_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo x86_64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) uname -m ;;
  esac
}

arch=$(host_arch)
builder=auto
out=dist
dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) [ $# -ge 2 ] || die "--arch needs a value"; arch=$2; shift 2 ;;
    --arch=*) arch=${1#*=}; shift ;;
    --builder) [ $# -ge 2 ] || die "--builder needs a value"; builder=$2; shift 2 ;;
    --builder=*) builder=${1#*=}; shift ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --dry-run) dry=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

case "$arch" in
  x86_64) rust_target=x86_64-unknown-linux-gnu; lambda_flag=--x86-64 ;;
  arm64) rust_target=aarch64-unknown-linux-gnu; lambda_flag=--arm64 ;;
  *) die "--arch must be x86_64 or arm64, not '$arch'" ;;
esac

command -v cargo >/dev/null || die "cargo is not installed"
command -v python3 >/dev/null || die "python3 is needed to write the zips"

case "$builder" in
  auto)
    if cargo lambda --version >/dev/null 2>&1; then builder=cargo-lambda; else builder=cargo; fi ;;
  cargo-lambda)
    cargo lambda --version >/dev/null 2>&1 || die "cargo-lambda is not installed (pip install cargo-lambda)" ;;
  cargo) ;;
  *) die "--builder must be auto, cargo-lambda or cargo, not '$builder'" ;;
esac

# Workspace members and the target directory, from cargo itself.
meta=$(cargo metadata --format-version 1 --no-deps) || die "cargo metadata failed"
read -r target_dir members < <(python3 -c '
import json, sys
m = json.load(sys.stdin)
print(m["target_directory"], ",".join(p["name"] for p in m["packages"]))
' <<<"$meta")

packages=()
for p in stsguard-ingest stsguard-digest stsguard-receive; do
  if [[ ",$members," == *",$p,"* ]]; then
    packages+=("$p")
  else
    echo "package.sh: $p is not in the workspace; skipped"
  fi
done
[ ${#packages[@]} -gt 0 ] || die "none of stsguard-ingest, stsguard-digest, stsguard-receive is a workspace member: nothing to package"

# Plain cargo: the host's own target, or an installed cross target.
cargo_target_args=()
binary_dir="$target_dir/release"
if [ "$builder" = cargo ] && [ "$arch" != "$(host_arch)" ]; then
  if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$rust_target"; then
    die "building for $arch without cargo-lambda needs the Rust target: rustup target add $rust_target (and a linker, see docs/deploy.md)"
  fi
  cargo_target_args=(--target "$rust_target")
  binary_dir="$target_dir/$rust_target/release"
fi

run() {
  printf '+ %s\n' "$*"
  [ "$dry" = 1 ] || "$@"
}

# Writes ZIP with one entry, bootstrap (mode 0755), from BINARY; fixed timestamp.
write_zip() {
  local binary=$1 zip=$2
  python3 - "$binary" "$zip" <<'EOF'
import sys, zipfile
binary, out = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(1980, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.create_system = 3  # Unix, so that the mode bits are honoured
info.compress_type = zipfile.ZIP_DEFLATED
with open(binary, "rb") as f, zipfile.ZipFile(out, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
EOF
}

[ "$dry" = 1 ] || mkdir -p "$out"
echo "package.sh: ${packages[*]} for $arch with $builder -> $out/"
for p in "${packages[@]}"; do
  # Each crate's binary is named after the crate; the zip names it bootstrap.
  if [ "$builder" = cargo-lambda ]; then
    run cargo lambda build --release "$lambda_flag" --package "$p" --locked
    binary="$target_dir/lambda/$p/bootstrap"
  else
    run cargo build --release --package "$p" --bin "$p" --locked "${cargo_target_args[@]}"
    binary="$binary_dir/$p"
  fi
  zip="$out/$p.zip"
  if [ "$dry" = 1 ]; then
    echo "+ zip $binary -> $zip"
    continue
  fi
  [ -x "$binary" ] || die "the build left no executable at $binary"
  # provided.al2023 has glibc 2.34: a binary linked against newer symbol
  # versions (a newer build host) would fail to start there.
  glibc=$(python3 - "$binary" <<'EOF'
import re, sys
found = {tuple(map(int, v.split(b"."))) for v in re.findall(rb"GLIBC_(2\.[0-9]+)", open(sys.argv[1], "rb").read())}
print(".".join(map(str, max(found))) if found else "none")
EOF
)
  if [ "$glibc" != none ] && python3 -c 'import sys; sys.exit(0 if tuple(map(int, sys.argv[1].split("."))) > (2, 34) else 1)' "$glibc"; then
    die "$binary needs glibc $glibc, newer than the 2.34 of provided.al2023: build with cargo-lambda (pip install cargo-lambda) or on an older host"
  fi
  write_zip "$binary" "$zip"
  size=$(wc -c <"$zip")
  sha=$(python3 -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' "$zip")
  echo "package.sh: wrote $zip ($size bytes, glibc >= $glibc, filebase64sha256 $sha)"
done
echo "package.sh: done; set architecture = \"$arch\" in the module"
