#!/usr/bin/env bash
# Offline checks of the Terraform module in infra/ (no terraform binary needed):
#   1. every .tf file under infra/ parses with python-hcl2;
#   2. checkov finds no failed check (justified skips are inline
#      `#checkov:skip=` comments, listed in infra/README.md).
# Tools come from PyPI into venvs under ~/.cache/stsguard-ci/infra-venv (one for
# checkov, one for python-hcl2: checkov's bc-python-hcl2 installs a module of
# the same name `hcl2`, so the two cannot share a venv).
# Needs Python 3.9+ with venv (Debian: apt-get install python3-venv).
# Exit 0 and "infra-check: PASS" when both pass, 1 and "infra-check: FAIL" otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
HCL2_VERSION=8.1.4
BASE="${STSGUARD_INFRA_VENV:-$HOME/.cache/stsguard-ci/infra-venv}"
PY="${PYTHON:-python3}"

step() { printf '\n== %s\n' "$*"; }
fail() { printf '\ninfra-check: FAIL (%s)\n' "$*"; exit 1; }

venv() { # venv DIR PACKAGE==VERSION
  local dir=$1 pkg=$2
  if [ ! -x "$dir/bin/python" ]; then
    "$PY" -m venv "$dir" || fail "cannot create a venv with $PY (Debian: apt-get install python3-venv)"
  fi
  if ! "$dir/bin/python" -m pip show "${pkg%%==*}" 2>/dev/null | grep -qx "Version: ${pkg##*==}"; then
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$pkg" || fail "pip install $pkg"
  fi
}

step "tools (venvs under $BASE)"
venv "$BASE/hcl2" "python-hcl2==$HCL2_VERSION"
venv "$BASE/checkov" "checkov==$CHECKOV_VERSION"
echo "python-hcl2 $HCL2_VERSION, checkov $("$BASE/checkov/bin/checkov" --version)"

step "parse every .tf file under infra/ (python-hcl2)"
"$BASE/hcl2/bin/python" - <<'EOF' || fail "HCL parse errors"
import pathlib, sys
import hcl2

files = sorted(p for p in pathlib.Path("infra").rglob("*.tf") if ".terraform" not in p.parts)
if not files:
    sys.exit("no .tf files under infra/")
bad = 0
for path in files:
    try:
        with path.open(encoding="utf-8") as f:
            hcl2.load(f)
        print(f"ok    {path}")
    except Exception as e:  # any parse error fails the check
        bad += 1
        print(f"ERROR {path}: {type(e).__name__}: {e}")
print(f"{len(files) - bad} of {len(files)} files parse")
sys.exit(1 if bad else 0)
EOF

step "checkov -d infra/ --framework terraform"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
set +e
"$BASE/checkov/bin/checkov" -d infra/ --framework terraform --quiet --compact \
  --skip-download --download-external-modules false | tee "$report"
status=${PIPESTATUS[0]}
set -e
# The summary line of every runner: "Passed checks: N, Failed checks: N, Skipped checks: N".
summary=$(grep -E '^Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$report" || true)
if [ -z "$summary" ]; then
  # --quiet prints nothing at all when no check failed; ask for the counts.
  "$BASE/checkov/bin/checkov" -d infra/ --framework terraform --compact \
    --skip-download --download-external-modules false --output cli >"$report" 2>&1 || true
  summary=$(grep -E '^Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$report" || true)
fi
echo "checkov: ${summary:-no summary line}"
[ -n "$summary" ] || fail "checkov printed no summary"
failed=$(sed -E 's/.*Failed checks: ([0-9]+).*/\1/' <<<"$summary")
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] || fail "checkov: $failed failed checks (exit $status)"

printf '\ninfra-check: PASS\n'
