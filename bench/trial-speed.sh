#!/usr/bin/env bash
# How long a trial takes, and where the time goes (issue 13). Results: docs/benchmarks.md,
# "Trials in about a second (issue 13)".
#
#   bench/trial-speed.sh           (needs dist/ built, KVM; about 2 minutes with qboot)
#
#   A. `run --ram 1G --runs N` and `run --ram 8G --runs N` with the built-in guest and the
#      default --firmware (auto): per trial start to READY (guest.readyAfterMs), of which
#      touching RAM (guest.touchMs), wall time (wallMs) and time per phase (phaseMs), medians;
#      and each command's own wall time;
#   B. the seed's compare (scenario seed-2015: 8 GiB, 10 against 10, one warm-up per variant),
#      both variants the same QEMU, whole command wall time, COMPARES times;
#   C. with FIRMWARE_TOO=1, A once more with --firmware seabios, for scale.
# Wall times are bash's $EPOCHREALTIME around each command; the 1-minute load average is
# recorded with each. Run it under `flock /tmp/migdown-qemu.lock` on a shared machine.
#
# Env: QEMU (qemu-system-x86_64), RUNS (5), COMPARES (1), FIRMWARE_TOO (0), OUT (a new
#      /var/tmp/migdown-trial-speed.* directory)
set -euo pipefail

cd "$(dirname "$0")/.."
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=${RUNS:-5}
COMPARES=${COMPARES:-1}
OUT=${OUT:-$(mktemp -d /var/tmp/migdown-trial-speed.XXXXXX)}
mkdir -p "$OUT"
[[ -f dist/cli.js ]] || { echo "trial-speed: dist/ is not built (npm run build)" >&2; exit 2; }

WALL=$OUT/wall.tsv
printf 'what\tseconds\tload1\n' >"$WALL"
timed() { # NAME CMD...: wall time of CMD into wall.tsv, its output into OUT/NAME.out/.err
  local name=$1 t0 t1 load
  shift
  read -r load _ </proc/loadavg
  t0=$EPOCHREALTIME
  "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" || { echo "trial-speed: $name failed, see $OUT/$name.err" >&2; exit 1; }
  t1=$EPOCHREALTIME
  printf '%s\t%s\t%s\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" "$load" | tee -a "$WALL" >&2
}

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc), loadavg: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "qemu: $($QEMU --version | head -1)"
  echo "node: $(node --version)"
  echo "migdown: git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)')"
} | tee "$OUT/machine.txt" >&2

MIGDOWN=(node bin/migdown.js)
# warm-up: page cache, the first QEMU start
"${MIGDOWN[@]}" run --qemu "$QEMU" --ram 1G --runs 1 --quiet --out "$OUT/warmup.jsonl" >/dev/null

for ram in 1G 8G; do
  timed "run-$ram" "${MIGDOWN[@]}" run --qemu "$QEMU" --ram "$ram" --runs "$RUNS" --quiet --json --out "$OUT/run-$ram.jsonl"
  if [[ ${FIRMWARE_TOO:-0} == 1 ]]; then
    timed "run-$ram-seabios" "${MIGDOWN[@]}" run --qemu "$QEMU" --ram "$ram" --runs "$RUNS" --firmware seabios --quiet --json --out "$OUT/run-$ram-seabios.jsonl"
  fi
done
for ((c = 1; c <= COMPARES; c++)); do
  timed "seed-compare-$c" env MIGDOWN_QEMU_A="$QEMU" MIGDOWN_QEMU_B="$QEMU" "${MIGDOWN[@]}" compare --scenario seed-2015 --quiet --json --out "$OUT/seed-compare-$c.jsonl"
done

node --input-type=module - "$OUT" <<'EOF'
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
const out = process.argv[2];
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : NaN;
};
const wall = Object.fromEntries(readFileSync(path.join(out, 'wall.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')).map(([w, s, l]) => [w, { s: Number(s), load: l }]));
const phases = ['boot', 'ready', 'configure', 'migrate', 'verify', 'stop'];
console.log('| command | trials | start to READY | of which touching | wall per trial | ' + phases.join(' | ') + ' | command wall (s) | load |');
console.log('| --- | ---: | ---: | ---: | ---: | ' + phases.map(() => '---:').join(' | ') + ' | ---: | ---: |');
for (const f of readdirSync(out).filter((f) => /^(run|seed-compare)-.*\.jsonl$/.test(f)).sort()) {
  const name = f.replace(/\.jsonl$/, '');
  const trials = readFileSync(path.join(out, f), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'trial' && !r.warmup);
  const m = (pick) => Math.round(median(trials.map(pick)));
  const row = [name, trials.length, m((t) => t.guest?.readyAfterMs), m((t) => t.guest?.touchMs), m((t) => t.wallMs), ...phases.map((p) => m((t) => t.phaseMs?.[p])), wall[name]?.s ?? '', wall[name]?.load ?? ''];
  console.log(`| ${row.join(' | ')} |`);
}
EOF
