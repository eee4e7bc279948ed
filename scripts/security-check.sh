#!/usr/bin/env bash
# security-check.sh [--quick]
#
# Issue 10's one-table security check, for the README. It runs, one after another:
#
# 1. Hostile responses: `cargo test -p tillkey --test hostile --locked` inside
#    scripts/with-keyring.sh. Each test of crates/cli/tests/hostile.rs drives the real
#    binary against an independent hostile server or careless input (echoed secrets,
#    absurd numbers, control characters, redirects, garbage, proxies, ...). "Tried" and
#    "passed" are the counts of cargo's "test result:" line.
# 2. Kill -9: `TILLKEY_KILL_RUNS=$KILL_RUNS cargo test -p tillkey --test killed_writes
#    --locked -- --nocapture` (SIGKILL during add, rotate, remove and token refresh). The
#    test prints one line starting with "kill -9 runs:"; runs, corrupt vaults and orphan
#    secrets come from it ("n/a" if the line is missing, which also fails the check).
# 3. Fuzzing: scripts/fuzz.sh, every target for $FUZZ_RUNS executions (one row per target:
#    libFuzzer's executed-unit count and whether it crashed).
# 4. Leak scan. What is counted, honestly: the hostile tests themselves scan everything
#    the binary printed and every file left in each test's data dir for the canary secret
#    in every form it can be echoed in (raw, its alphanumeric core, form-urlencoded,
#    JSON-escaped, base64 of client_id:secret; see assert_no_leak in hostile.rs) and fail
#    with "leaks the secret" when they find one; those data dirs are deleted when each
#    test ends, so this script cannot rescan them. It counts (a) the "leaks the secret"
#    failures in the hostile run's output and (b) occurrences of the canary's core
#    (CANARYsecret0123456789abcdef) anywhere in the captured output of the hostile and
#    kill runs (the tests redact it from their own messages, so any raw occurrence is
#    output that escaped the redaction). A leak that makes a test fail for another reason
#    first is counted as that test's failure in row 1, not here.
#
# Options and environment:
#   --quick           fuzz 10,000 executions per target and 40 kill runs (a smoke run)
#   FUZZ_RUNS=N       fuzz executions per target (default 1000000; --quick: 10000)
#   KILL_RUNS=N       kill -9 runs (default 1000; --quick: 40)
#   SECURITY_LOG_DIR  where the raw outputs go (default .tmp/security-check)
#
# Prints the table at the end (also written to $SECURITY_LOG_DIR/table.txt). Exit code:
# 0 when everything passed; 1 when any test failed, any fuzz target crashed or fell
# short of its runs, a vault was corrupt or a secret orphaned, or the leak scan hit.
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

QUICK=0
for a in "$@"; do
  case "$a" in
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "security-check.sh: unknown argument $a (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$QUICK" = 1 ]; then
  FUZZ_RUNS="${FUZZ_RUNS:-10000}" KILL_RUNS="${KILL_RUNS:-40}"
else
  FUZZ_RUNS="${FUZZ_RUNS:-1000000}" KILL_RUNS="${KILL_RUNS:-1000}"
fi
LOGS="${SECURITY_LOG_DIR:-$ROOT/.tmp/security-check}"
mkdir -p "$LOGS"
CANARY_CORE="CANARYsecret0123456789abcdef"
start=$SECONDS
failed=0
ROWS=()
row() { ROWS+=("$1"$'\t'"$2"$'\t'"$3"); if [ "$3" != PASS ]; then failed=1; fi; }

# --- 1. Hostile responses -----------------------------------------------------------
step "Hostile responses: cargo test -p tillkey --test hostile (in with-keyring.sh)"
HOSTILE_LOG="$LOGS/hostile.log"
hrc=0
scripts/with-keyring.sh cargo test -p tillkey --test hostile --locked >"$HOSTILE_LOG" 2>&1 || hrc=$?
h_pass=0 h_fail=0 h_lines=0
while read -r p f; do
  h_pass=$((h_pass + p)) h_fail=$((h_fail + f)) h_lines=$((h_lines + 1))
done < <(grep -a -o 'test result: [A-Za-z]*\. [0-9]* passed; [0-9]* failed;' "$HOSTILE_LOG" |
  sed -E 's/^test result: [A-Za-z]+\. ([0-9]+) passed; ([0-9]+) failed;/\1 \2/')
info "exit $hrc; $h_pass passed, $h_fail failed"
if [ "$h_lines" -eq 0 ]; then
  row "hostile responses (crates/cli/tests/hostile.rs)" "did not run (exit $hrc; see ${HOSTILE_LOG#"$ROOT"/})" FAIL
else
  status=PASS
  if [ "$h_fail" -gt 0 ] || [ "$hrc" -ne 0 ]; then status=FAIL; fi
  row "hostile responses (crates/cli/tests/hostile.rs)" "$((h_pass + h_fail)) tried, $h_pass passed, $h_fail failed" "$status"
fi

# --- 2. Kill -9 ---------------------------------------------------------------------
step "Kill -9: TILLKEY_KILL_RUNS=$KILL_RUNS cargo test -p tillkey --test killed_writes"
KILL_LOG="$LOGS/killed_writes.log"
krc=0
TILLKEY_KILL_RUNS="$KILL_RUNS" cargo test -p tillkey --test killed_writes --locked -- --nocapture >"$KILL_LOG" 2>&1 || krc=$?
# The last complete "kill -9 runs: N (...); ..." in the log, wherever it starts.
kline="$(grep -a -o 'kill -9 runs: [0-9]\+ ([^()]*);.*' "$KILL_LOG" | tail -n 1 || true)"
info "exit $krc; ${kline:-no 'kill -9 runs:' line}"
if [ -z "$kline" ]; then
  row "kill -9 runs (add, rotate, remove, refresh)" "n/a (exit $krc; see ${KILL_LOG#"$ROOT"/})" FAIL
  row "corrupt vaults after a kill" "n/a" FAIL
  row "orphan secrets after the next write" "n/a" FAIL
else
  kruns="$(sed -nE 's/^kill -9 runs: ([0-9]+).*/\1/p' <<<"$kline")"
  kops="$(sed -nE 's/^kill -9 runs: [0-9]+ \(([^)]*)\).*/\1/p' <<<"$kline")"
  corrupt="$(sed -nE 's/.*corrupt vaults: ([0-9]+).*/\1/p' <<<"$kline")"
  orphans="$(sed -nE 's/.*orphans after next write: ([0-9]+).*/\1/p' <<<"$kline")"
  status=PASS
  if [ "$krc" -ne 0 ] || [ "${kruns:-0}" -lt "$KILL_RUNS" ]; then status=FAIL; fi
  row "kill -9 runs (add, rotate, remove, refresh)" "${kruns:-n/a} of $KILL_RUNS (${kops:-?})" "$status"
  status=PASS
  if [ "${corrupt:-x}" != 0 ]; then status=FAIL; fi
  row "corrupt vaults after a kill" "${corrupt:-n/a}" "$status"
  status=PASS
  if [ "${orphans:-x}" != 0 ]; then status=FAIL; fi
  row "orphan secrets after the next write" "${orphans:-n/a}" "$status"
fi

# --- 3. Fuzzing ---------------------------------------------------------------------
step "Fuzzing: scripts/fuzz.sh --runs $FUZZ_RUNS"
FUZZ_TSV="$LOGS/fuzz.tsv"
rm -f "$FUZZ_TSV"
frc=0
FUZZ_SUMMARY="$FUZZ_TSV" scripts/fuzz.sh --runs "$FUZZ_RUNS" >"$LOGS/fuzz.log" 2>&1 || frc=$?
info "exit $frc"
if [ ! -s "$FUZZ_TSV" ]; then
  row "fuzzing (scripts/fuzz.sh)" "did not run (exit $frc; see ${LOGS#"$ROOT"/}/fuzz.log)" FAIL
else
  total=0 crashed=0
  while IFS=$'\t' read -r t execs _secs result; do
    [ "$t" = target ] && continue
    total=$((total + execs))
    status=PASS
    case "$result" in ok*) ;; *) status=FAIL crashed=$((crashed + 1)) ;; esac
    if [ "$execs" -lt "$FUZZ_RUNS" ]; then status=FAIL; fi
    case "$result" in ok*) shown="0 crashes" ;; *) shown="$result" ;; esac
    row "fuzz $t" "$execs executions, $shown" "$status"
  done <"$FUZZ_TSV"
  status=PASS
  if [ "$frc" -ne 0 ] || [ "$crashed" -gt 0 ]; then status=FAIL; fi
  row "fuzz, all targets" "$total executions, $crashed targets crashed" "$status"
fi

# --- 4. Leak scan -------------------------------------------------------------------
step "Leak scan"
in_test=$(grep -a -c 'leaks the secret' "$HOSTILE_LOG" 2>/dev/null || true)
raw=$(cat "$HOSTILE_LOG" "$KILL_LOG" 2>/dev/null | grep -a -o "$CANARY_CORE" | wc -l)
hits=$(( ${in_test:-0} + raw ))
info "in-test leak failures: ${in_test:-0}; raw canary in captured output: $raw"
status=PASS
if [ "$hits" -ne 0 ] || [ "$h_lines" -eq 0 ]; then status=FAIL; fi
row "leak-scan hits (canary in outputs and data dirs)" "$hits (hostile-test leak failures ${in_test:-0}, raw canary in captured output $raw)" "$status"

# --- Table --------------------------------------------------------------------------
commit="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=""
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then dirty=" + uncommitted changes"; fi
TABLE="$LOGS/table.txt"
{
  echo "Security check: $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit$dirty, $((SECONDS - start)) s"
  echo "(fuzz: $FUZZ_RUNS executions per target; kill -9: $KILL_RUNS runs; raw outputs in ${LOGS#"$ROOT"/})"
  echo
  printf '| %-48s | %-70s | %-6s |\n' check result status
  printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..50})" "$(printf -- '-%.0s' {1..72})" "$(printf -- '-%.0s' {1..8})"
  for r in "${ROWS[@]}"; do
    IFS=$'\t' read -r c v s <<<"$r"
    printf '| %-48s | %-70s | %-6s |\n' "$c" "$v" "$s"
  done
} >"$TABLE"
echo
cat "$TABLE"
if [ "$failed" -ne 0 ]; then
  echo
  echo "security check FAILED (see the rows marked FAIL; raw outputs in ${LOGS#"$ROOT"/})"
fi
exit "$failed"
