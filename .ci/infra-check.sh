#!/usr/bin/env bash
# Offline checks of the Terraform module in infra/ (no terraform binary needed):
#   1. every .tf file under infra/ parses with python-hcl2;
#   2. infra/README.md lists exactly the variables and outputs of the module and
#      of modules/mta-sts, each has a description, and every checkov skip is listed;
#   3. checkov finds no failed check (justified skips are inline
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
    if ! "$PY" -m venv "$dir" 2>/dev/null; then
      rm -rf "$dir"
      # Debian ships venv's pip bootstrap separately (python3-venv).
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null || fail "apt-get install python3-venv"
      fi
      "$PY" -m venv "$dir" || fail "cannot create a venv with $PY (Debian: apt-get install python3-venv)"
    fi
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

step "infra/README.md matches the code (inputs, outputs, descriptions, checkov skips)"
"$BASE/hcl2/bin/python" - <<'EOF' || fail "infra/README.md does not match the code"
import pathlib, re, sys
import hcl2

readme = pathlib.Path("infra/README.md").read_text(encoding="utf-8")
problems = []

def unquote(s):
    return s[1:-1] if isinstance(s, str) and len(s) >= 2 and s[0] == s[-1] == '"' else s

def blocks(directory, kind):
    """name -> body of every `kind` block (variable/output) in a module directory."""
    out = {}
    for path in sorted(pathlib.Path(directory).glob("*.tf")):
        with path.open(encoding="utf-8") as f:
            for block in hcl2.load(f).get(kind, []):
                for name, body in block.items():
                    out[unquote(name)] = body
    return out

def section(marker):
    m = re.search(rf"<!-- {re.escape(marker)} -->(.*?)<!-- /{re.escape(marker)} -->", readme, re.S)
    if not m:
        problems.append(f"README has no section <!-- {marker} -->")
        return set()
    return set(re.findall(r"^\| `([^`]+)` \|", m.group(1), re.M))

for module, directory in [("stsguard", "infra"), ("mta-sts", "infra/modules/mta-sts")]:
    for kind, marker in [("variable", f"inputs:{module}"), ("output", f"outputs:{module}")]:
        code = blocks(directory, kind)
        for name, body in code.items():
            if not str(unquote(body.get("description", ""))).strip():
                problems.append(f"{directory}: {kind} {name} has no description")
        listed = section(marker)
        for name in sorted(set(code) - listed):
            problems.append(f"README section {marker} does not list {kind} {name}")
        for name in sorted(listed - set(code)):
            problems.append(f"README section {marker} lists {name}, which {directory} does not have")

skips = set()
for path in sorted(pathlib.Path("infra").rglob("*.tf")):
    for check in re.findall(r"#checkov:skip=(CKV[0-9A-Z_]+):\S", path.read_text(encoding="utf-8")):
        skips.add((str(path.relative_to("infra")), check))
m = re.search(r"<!-- skips -->(.*?)<!-- /skips -->", readme, re.S)
listed = set(re.findall(r"^\| `([^`]+)` \| `[^`]+` \| (CKV[0-9A-Z_]+) \|", m.group(1), re.M)) if m else set()
if not m:
    problems.append("README has no section <!-- skips -->")
for file, check in sorted(skips - listed):
    problems.append(f"README does not list the skip {check} in {file}")
for file, check in sorted(listed - skips):
    problems.append(f"README lists a skip {check} in {file} that the code does not have")

for p in problems:
    print("ERROR", p)
print(f"inputs, outputs and {len(skips)} skips checked; {len(problems)} problems")
sys.exit(1 if problems else 0)
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
