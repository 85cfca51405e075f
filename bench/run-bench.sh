#!/usr/bin/env bash
# Wall time per trial and peak RSS of migdown against the bash+socat baseline
# (bench/baseline.sh). Results: docs/benchmarks.md, "Wall time per trial and memory (issue 2)".
#
#   bench/run-bench.sh            (from anywhere; needs dist/ built, KVM, socat)
#
# All on a 1 GiB, 4-vCPU, firmware-only KVM guest, wall time taken with bash's $EPOCHREALTIME
# around each command:
#   A. whole command, one trial: `node bin/migdown.js run --ram 1G --runs 1 --quiet --out F`
#      (plus `--guest none` where migdown has --guest, i.e. since its built-in guest became the
#      default: the baseline's VM is firmware only, and so must migdown's be)
#      against one bench/baseline.sh, alternated (ABBA order), PAIRS_1 pairs;
#   B. five trials: `migdown run --runs 5` against five bench/baseline.sh in a row, alternated,
#      PAIRS_5 pairs (node startup and the QEMU probe are paid once per five trials);
#      from A and B also each tool's own per-trial wall time (migdown's record wallMs, the
#      baseline's "completed in N ms") and so each command's fixed cost outside its trials;
#   C. peak RSS of the migdown (node) process during `run --ram 1G --runs 5`, RSS_RUNS times
#      as in A/B, and RSS_DEFAULT_RUNS times with migdown's default guest (if it has one):
#      ru_maxrss (RUSAGE_SELF, QEMU not included) and VmHWM, from bench/rss-probe.mjs
#      preloaded; plus /usr/bin/time -v when installed (max over node AND the QEMUs it waited
#      for); plus `node -e 0` and "import dist/cli.js" alone for scale;
#   D. startup cost: STARTUP_RUNS runs each of `node -e 0` and `node bin/migdown.js --version`
#      (node boot + loading migdown's whole module graph, no QEMU).
# bench/summarize.mjs OUT prints the medians and ratios (run at the end).
#
# Noise: before each measurement, QEMU processes this script did not start (pgrep
# qemu-system) are waited for, up to WAIT_IDLE_S seconds; a measurement that starts or ends
# while one runs is marked busy. The 1-minute load average is recorded with each sample.
#
# Others may rebuild dist/ while this runs, so by default (SNAPSHOT=1) migdown's bin/, dist/,
# package.json, guest/ and scenarios/ are copied to OUT/migdown first (node_modules linked) and
# that copy is what is measured: one build throughout.
#
# Env: SNAPSHOT (1), PAIRS_1 (15), PAIRS_5 (9), RSS_RUNS (3), RSS_DEFAULT_RUNS (2), STARTUP_RUNS (9), WAIT_IDLE_S (60),
#      OUT (a new /var/tmp/migdown-bench.* directory)
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
PAIRS_1=${PAIRS_1:-15}
PAIRS_5=${PAIRS_5:-9}
RSS_RUNS=${RSS_RUNS:-3}
RSS_DEFAULT_RUNS=${RSS_DEFAULT_RUNS:-2}
STARTUP_RUNS=${STARTUP_RUNS:-9}
WAIT_IDLE_S=${WAIT_IDLE_S:-60}
OUT=${OUT:-$(mktemp -d /var/tmp/migdown-bench.XXXXXX)}
mkdir -p "$OUT"
RAW=$OUT/raw.tsv # kind tool pair seconds busy loadavg1
printf 'kind\ttool\tpair\tseconds\tbusy\tload1\n' >"$RAW"

[[ -f dist/cli.js ]] || { echo "run-bench: dist/ is not built (npm run build)" >&2; exit 2; }
MD=$REPO # the migdown tree measured
if [[ ${SNAPSHOT:-1} == 1 ]]; then
  MD=$OUT/migdown
  mkdir -p "$MD"
  cp -r bin dist package.json "$MD"/
  for d in guest scenarios; do if [[ -d $d ]]; then cp -r "$d" "$MD"/; fi; done
  ln -s "$REPO/node_modules" "$MD/node_modules"
fi
node "$MD/bin/migdown.js" --version >/dev/null || { echo "run-bench: $MD/bin/migdown.js does not start" >&2; exit 2; }
command -v socat >/dev/null || { echo "run-bench: socat is not installed" >&2; exit 2; }

CHILD=''
cleanup() {
  # Both tools stop their own QEMUs on SIGTERM (migdown: quit/SIGTERM/SIGKILL; baseline: trap).
  if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM "$CHILD" 2>/dev/null || true
    wait "$CHILD" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

foreign_qemu() { pgrep qemu-system 2>/dev/null | wc -l; }
BUSY_BEFORE=0
wait_idle() {
  local i
  for ((i = 0; i < WAIT_IDLE_S; i++)); do
    (($(foreign_qemu) == 0)) && { BUSY_BEFORE=0; return; }
    ((i == 0)) && echo "run-bench: other QEMU running, waiting up to ${WAIT_IDLE_S}s: $(pgrep -a qemu-system | cut -c1-100 | tr '\n' ';')" >&2
    sleep 1
  done
  BUSY_BEFORE=1
}

# timed KIND TOOL PAIR CMD...: run CMD in the background (so a signal can reach it), record
# its wall time; its stdout/stderr go to OUT/KIND-TOOL-PAIR.out/.err
timed() {
  local kind=$1 tool=$2 pair=$3 t0 t1 rc busy secs load
  shift 3
  wait_idle
  read -r load _ </proc/loadavg
  t0=$EPOCHREALTIME
  "$@" >"$OUT/$kind-$tool-$pair.out" 2>"$OUT/$kind-$tool-$pair.err" &
  CHILD=$!
  rc=0
  wait "$CHILD" || rc=$?
  t1=$EPOCHREALTIME
  CHILD=''
  busy=$BUSY_BEFORE
  (($(foreign_qemu) == 0)) || busy=1
  if ((rc != 0)); then
    echo "run-bench: $tool ($kind, pair $pair) failed with exit $rc; see $OUT/$kind-$tool-$pair.err" >&2
    exit 1
  fi
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$tool" "$pair" "$secs" "$busy" "$load" >>"$RAW"
  printf 'run-bench: %-7s %-8s %2s  %s s  load %s%s\n' "$kind" "$tool" "$pair" "$secs" "$load" "$( ((busy)) && echo ' (busy)')" >&2
}

# What is measured: migdown's dist/ as built now. Others may rebuild it during the run.
dist_fingerprint() { (cd "$MD" && find dist -name '*.js' -type f | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16); }
DIST_AT_START=$(dist_fingerprint)

GUEST_NONE=()
RUN_HELP=$(node "$MD/bin/migdown.js" run --help 2>/dev/null || true)
if [[ $RUN_HELP == *'--guest <'* ]]; then GUEST_NONE=(--guest none); fi
# Since issue 14 QEMU before 8.2 is traced too (the dirty-log question); the baseline is not.
if [[ $RUN_HELP == *'--no-breakdown'* ]]; then GUEST_NONE+=(--no-breakdown); fi
MIGDOWN=(node "$MD/bin/migdown.js" run --ram 1G --quiet "${GUEST_NONE[@]}")
BASELINE_5=(bash -c 'for i in 1 2 3 4 5; do bench/baseline.sh || exit; done')

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "mem: $(free -m | awk '/^Mem:/ { print $2 " MiB" }')"
  echo "kernel: $(uname -r)"
  echo "qemu: $(qemu-system-x86_64 --version | head -1)"
  echo "node: $(node --version)"
  echo "socat: $(socat -V 2>/dev/null | awk '/socat version/ { print $3; exit }')"
  echo "migdown: git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)'), dist/cli.js built $(date -u -r dist/cli.js +%Y-%m-%dT%H:%M:%SZ), dist fingerprint $DIST_AT_START, measured from $MD"
  echo "migdown command: ${MIGDOWN[*]} --runs N --out F"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "foreign qemu at start: $(foreign_qemu)"
} | tee "$OUT/machine.txt" >&2

# Warm-up (page cache, first QEMU start): not recorded.
echo "run-bench: warm-up" >&2
"${MIGDOWN[@]}" --runs 1 --out "$OUT/warmup.jsonl" >/dev/null 2>&1
bench/baseline.sh >/dev/null

# A. whole command, one trial each
for ((p = 1; p <= PAIRS_1; p++)); do
  if ((p % 2)); then
    timed one migdown "$p" "${MIGDOWN[@]}" --runs 1 --out "$OUT/one-migdown-$p.jsonl"
    timed one baseline "$p" bench/baseline.sh
  else
    timed one baseline "$p" bench/baseline.sh
    timed one migdown "$p" "${MIGDOWN[@]}" --runs 1 --out "$OUT/one-migdown-$p.jsonl"
  fi
done

# B. five trials per command
for ((p = 1; p <= PAIRS_5; p++)); do
  if ((p % 2)); then
    timed five migdown "$p" "${MIGDOWN[@]}" --runs 5 --out "$OUT/five-migdown-$p.jsonl"
    timed five baseline "$p" "${BASELINE_5[@]}"
  else
    timed five baseline "$p" "${BASELINE_5[@]}"
    timed five migdown "$p" "${MIGDOWN[@]}" --runs 5 --out "$OUT/five-migdown-$p.jsonl"
  fi
done

# D. startup cost, no QEMU
for ((p = 1; p <= STARTUP_RUNS; p++)); do
  timed startup node-e0 "$p" node -e 0
  timed startup version "$p" node "$MD/bin/migdown.js" --version
done

# C. peak RSS of the migdown process, --runs 5 --ram 1G
: >"$OUT/rss.txt"
for ((r = 1; r <= RSS_RUNS; r++)); do
  wait_idle
  MIGDOWN_RSS_FILE=$OUT/rss.txt MIGDOWN_RSS_LABEL="${GUEST_NONE[*]:-default}" \
    node --import "$REPO/bench/rss-probe.mjs" "$MD/bin/migdown.js" run --ram 1G --runs 5 --quiet "${GUEST_NONE[@]}" --out "$OUT/rss-$r.jsonl" >/dev/null
done
if ((${#GUEST_NONE[@]})); then
  for ((r = 1; r <= RSS_DEFAULT_RUNS; r++)); do
    wait_idle
    MIGDOWN_RSS_FILE=$OUT/rss.txt MIGDOWN_RSS_LABEL="default (built-in guest)" \
      node --import "$REPO/bench/rss-probe.mjs" "$MD/bin/migdown.js" run --ram 1G --runs 5 --quiet --out "$OUT/rss-default-$r.jsonl" >/dev/null
  done
fi
if [[ -x /usr/bin/time ]]; then
  wait_idle
  /usr/bin/time -v node "$MD/bin/migdown.js" run --ram 1G --runs 5 --quiet "${GUEST_NONE[@]}" --out "$OUT/rss-time.jsonl" >/dev/null 2>"$OUT/time-v.txt"
fi
node -e 'console.log(`node -e 0: maxrss_kb=${process.resourceUsage().maxRSS}`)' >>"$OUT/rss-scale.txt"
node --input-type=module -e 'await import(process.argv[1]); console.log(`import dist/cli.js only: maxrss_kb=${process.resourceUsage().maxRSS}`)' "$MD/dist/cli.js" >>"$OUT/rss-scale.txt"

{
  echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  DIST_AT_END=$(dist_fingerprint)
  if [[ $DIST_AT_END != "$DIST_AT_START" ]]; then
    echo "WARNING: $MD/dist changed during the run (someone rebuilt migdown): $DIST_AT_START -> $DIST_AT_END; the samples mix two builds"
  fi
} | tee -a "$OUT/machine.txt" >&2

node bench/summarize.mjs "$OUT" | tee "$OUT/summary.txt"
