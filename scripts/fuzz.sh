#!/usr/bin/env bash
# fuzz.sh [--runs N | --quick] [--cmin | --cmin-only] [TARGET]...
#
# Runs the cargo-fuzz targets of fuzz/ (issue 10: every byte from outside is hostile), one
# target at a time, each for N executions (default 1,000,000), and prints one table:
# target -> executions -> result. Exit code: 0 when every target ran its N executions
# without a crash, 1 otherwise (a crash, a timeout, a build failure, or fewer runs).
#
# Targets (fuzz/fuzz_targets/*.rs; each file's header says what it asserts):
#   token_response  oauth::parse_grant + oauth::provider_error, every provider kind
#   jwt             jwt::claims, jwt::expiry, token::token_info (any expires_in / exp)
#   metadata        vault::check::parse_document, rotation::status, write-back
#   team_document   team::KvEntry::parse::<Metadata> + check::validate, rotation, write-back
#   stdin_lines     crates/cli/src/input.rs: FIELD=VALUE lines, engine secret, --set, --var
#   url             providers::validate_url, providers::display_url
#   scrub           scrub::Scrubber clean/code: no secret, no control character in output
#   import          import::parse + import::plan: .env, Postman, Bruno, Insomnia files
#   redact          inspect::Redactor: no known or secret-named value in any output
#   audit_log       audit::parse_lines, AuditLog list/verify/append on any audit.log bytes
#
# Options and environment:
#   --runs N / FUZZ_RUNS=N   executions per target (default 1000000)
#   --quick                  10000 executions per target (a smoke run)
#   --cmin                   afterwards, minimise each target's corpus (committed + this and
#                            earlier runs' scratch inputs) into fuzz/corpus/<target>: `cargo fuzz
#                            cmin` on edge coverage (-use_counters=0), then the largest inputs
#                            are dropped until the target's inputs fit FUZZ_CORPUS_BUDGET bytes
#                            (default 131072). The readable seed-* files are always kept.
#   --cmin-only              only that minimisation, no fuzzing
#   FUZZ_SANITIZER=none|address   (default none: the code under test is safe Rust, and
#                            panics, which is what the targets look for, need no sanitizer;
#                            address runs about 2-3x slower). Debug assertions are always
#                            on, so integer overflow panics as it does in debug builds.
#   FUZZ_TIMEOUT=S           per-input time limit, a slower input is reported (default 10)
#   FUZZ_SUMMARY=FILE        also write the table as TSV (default .tmp/fuzz/summary.tsv)
#
# Idempotent: installs cargo-fuzz (`cargo install cargo-fuzz --locked`) only when missing,
# needs the nightly toolchain (libFuzzer instrumentation), builds into fuzz/target. The
# committed corpus (fuzz/corpus/<target>/) is read, never written, unless --cmin: new inputs
# found during a run go to .tmp/fuzz/corpus/<target>/. Crashes are saved under
# fuzz/artifacts/<target>/ and named in the table; reproduce one with
#   cargo +nightly fuzz run -s none -a TARGET fuzz/artifacts/TARGET/crash-...
# Logs: .tmp/fuzz/<target>.log (libFuzzer's final "Done N runs in S second(s)" line is the
# execution count in the table).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ALL_TARGETS=(token_response jwt metadata team_document stdin_lines url scrub import redact audit_log)
RUNS="${FUZZ_RUNS:-1000000}"
CMIN=0
CMIN_ONLY=0
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS="${2:?--runs needs a number}"; shift 2 ;;
    --runs=*) RUNS="${1#--runs=}"; shift ;;
    --quick) RUNS=10000; shift ;;
    --cmin) CMIN=1; shift ;;
    --cmin-only) CMIN=1 CMIN_ONLY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: runs must be a positive number, got '$RUNS'" >&2; exit 2; }
if [ ${#TARGETS[@]} -eq 0 ]; then TARGETS=("${ALL_TARGETS[@]}"); fi
for t in "${TARGETS[@]}"; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "fuzz.sh: no target '$t' (targets: ${ALL_TARGETS[*]})" >&2; exit 2; }
done

SANITIZER="${FUZZ_SANITIZER:-none}"
BUDGET="${FUZZ_CORPUS_BUDGET:-131072}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
WORK="$ROOT/.tmp/fuzz"
SUMMARY="${FUZZ_SUMMARY:-$WORK/summary.tsv}"
mkdir -p "$WORK"

step "Tools"
if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  info "installing the nightly toolchain (libFuzzer needs it)"
  rustup toolchain install nightly --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  info "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
info "$(cargo fuzz --version), $(rustc +nightly --version)"

FUZZ=(cargo +nightly fuzz)
BUILD_OPTS=(-s "$SANITIZER" --debug-assertions)

step "Build (sanitizer: $SANITIZER, debug assertions on)"
build_ok=1
if ! "${FUZZ[@]}" build "${BUILD_OPTS[@]}" >"$WORK/build.log" 2>&1; then
  build_ok=0
  tail -n 30 "$WORK/build.log" >&2
fi

declare -A EXECS RESULT SECS
failed=0
for t in "${TARGETS[@]}"; do
  if [ "$CMIN_ONLY" = 1 ]; then break; fi
  if [ "$build_ok" = 0 ]; then
    EXECS[$t]=0 RESULT[$t]="build failed (.tmp/fuzz/build.log)" SECS[$t]=0
    failed=1
    continue
  fi
  step "$t: $RUNS runs"
  mkdir -p "$WORK/corpus/$t" "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log="$WORK/$t.log"
  rc=0
  # New inputs go to the first dir (scratch); the committed corpus is only read.
  "${FUZZ[@]}" run "${BUILD_OPTS[@]}" "$t" "$WORK/corpus/$t" "fuzz/corpus/$t" -- \
    -runs="$RUNS" -timeout="$TIMEOUT" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  done_line="$(grep -E '^Done [0-9]+ runs in [0-9]+ second' "$log" | tail -n 1 || true)"
  execs="$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -n 1)"
  if [ -z "$execs" ]; then
    execs="$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' <<<"$done_line")"
  fi
  EXECS[$t]="${execs:-0}"
  SECS[$t]="$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' <<<"$done_line")"
  artifact="$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)"
  if [ "$rc" -eq 0 ] && [ -n "$done_line" ] && [ "${EXECS[$t]}" -ge "$RUNS" ]; then
    RESULT[$t]="ok, 0 crashes"
    info "$done_line"
  else
    failed=1
    if [ -n "$artifact" ]; then
      RESULT[$t]="CRASH: ${artifact#"$ROOT"/}"
    else
      RESULT[$t]="FAILED (exit $rc, see ${log#"$ROOT"/})"
    fi
    grep -E -m 3 "panicked at|^[a-z_]+: |ERROR: libFuzzer" "$log" | sed 's/^/    /' >&2 || true
  fi
done

if [ "$CMIN" = 1 ] && [ "$build_ok" = 1 ]; then
  step "Minimise the committed corpus"
  for t in "${TARGETS[@]}"; do
    all="$WORK/cmin/$t"
    rm -rf "$all"
    mkdir -p "$all"
    cp -f "fuzz/corpus/$t/"* "$all/" 2>/dev/null || true
    cp -f "$WORK/corpus/$t/"* "$all/" 2>/dev/null || true
    before="$(find "$all" -type f | wc -l)"
    # Edge coverage only: hit-count buckets would keep thousands of near-copies.
    "${FUZZ[@]}" cmin "${BUILD_OPTS[@]}" "$t" "$all" -- -use_counters=0 >"$WORK/$t.cmin.log" 2>&1 ||
      { warn "cmin of $t failed (.tmp/fuzz/$t.cmin.log)"; continue; }
    # Keep the readable seeds; replace the rest with the minimised set (minus copies of
    # seeds), smallest first, within the budget.
    find "fuzz/corpus/$t" -type f ! -name 'seed-*' -delete
    declare -A SEEDSUM=()
    for s in "fuzz/corpus/$t"/seed-*; do
      [ -f "$s" ] && SEEDSUM["$(sha1sum <"$s" | cut -d' ' -f1)"]=1
    done
    used=0
    while read -r size f; do
      sum="$(sha1sum <"$f" | cut -d' ' -f1)"
      [ -n "${SEEDSUM[$sum]:-}" ] && continue
      [ $((used + size)) -gt "$BUDGET" ] && break
      cp -f "$f" "fuzz/corpus/$t/$sum"
      used=$((used + size))
    done < <(find "$all" -type f -printf '%s %p\n' | sort -n)
    unset SEEDSUM
    info "$t: $before inputs -> $(find "fuzz/corpus/$t" -type f | wc -l) ($(cat "fuzz/corpus/$t"/* | wc -c) bytes)"
  done
fi

if [ "$CMIN_ONLY" = 1 ]; then exit 0; fi
step "Fuzzing summary (runs per target: $RUNS, sanitizer: $SANITIZER)"
total=0
{
  printf 'target\texecutions\tseconds\tresult\n'
  for t in "${TARGETS[@]}"; do
    printf '%s\t%s\t%s\t%s\n' "$t" "${EXECS[$t]}" "${SECS[$t]:-}" "${RESULT[$t]}"
  done
} >"$SUMMARY"
printf '%-16s %12s %8s  %s\n' target executions seconds result
for t in "${TARGETS[@]}"; do
  printf '%-16s %12s %8s  %s\n' "$t" "${EXECS[$t]}" "${SECS[$t]:-}" "${RESULT[$t]}"
  total=$((total + EXECS[$t]))
done
printf '%-16s %12s\n' total "$total"
exit "$failed"
