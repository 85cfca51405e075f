// Summary of one bench/run-bench.sh output directory: node bench/summarize.mjs OUT
// Medians, ratios migdown/baseline, each command's fixed cost outside its trials, peak RSS.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const out = process.argv[2];
if (!out) {
  console.error('usage: node bench/summarize.mjs OUT_DIR');
  process.exit(2);
}
const read = (f) => readFileSync(path.join(out, f), 'utf8');
const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (s) => (Number.isFinite(s) ? `${Math.round(s * 1000)} ms` : 'n/a');
const r3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');

const rows = read('raw.tsv')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => {
    const [kind, tool, pair, seconds, busy, load] = l.split('\t');
    return { kind, tool, pair: Number(pair), seconds: Number(seconds), busy: busy === '1', load: Number(load) };
  });

/** seconds of each trial inside one command, as the tool itself measured it */
function innerTrials(kind, tool, pair) {
  if (tool === 'migdown') {
    const f = `${kind}-migdown-${pair}.jsonl`;
    if (!existsSync(path.join(out, f))) return [];
    return read(f)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.kind === 'trial')
      .map((r) => {
        if (r.status !== 'completed') console.log(`note: ${f} trial ${r.index} ${r.status}: ${r.reason ?? ''}`);
        return r.wallMs / 1000;
      });
  }
  const f = `${kind}-baseline-${pair}.out`;
  return [...read(f).matchAll(/completed in (\d+) ms/g)].map((m) => Number(m[1]) / 1000);
}

const lines = [];
const say = (s = '') => lines.push(s);
say(read('machine.txt').trimEnd());
say();
say('| measurement | n | migdown median | baseline median | ratio of medians | median of per-pair ratios |');
say('|---|---|---|---|---|---|');
const inner = { migdown: [], baseline: [] };
const fixed = { one: { migdown: [], baseline: [] }, five: { migdown: [], baseline: [] } };
for (const kind of ['one', 'five']) {
  for (const quietOnly of [false, true]) {
    const sel = (tool) => rows.filter((r) => r.kind === kind && r.tool === tool && (!quietOnly || !r.busy));
    const m = sel('migdown');
    const b = sel('baseline');
    const pairs = m
      .map((x) => [x, b.find((y) => y.pair === x.pair)])
      .filter(([, y]) => y)
      .map(([x, y]) => x.seconds / y.seconds);
    const mm = median(m.map((r) => r.seconds));
    const bm = median(b.map((r) => r.seconds));
    const label = `${kind === 'one' ? '`--runs 1` vs 1 baseline' : '`--runs 5` vs 5 baselines'}${quietOnly ? ' (no other QEMU)' : ''}`;
    say(`| ${label} | ${m.length}+${b.length} | ${ms(mm)} | ${ms(bm)} | ${r3(mm / bm)} | ${r3(median(pairs))} |`);
  }
  for (const r of rows.filter((x) => x.kind === kind)) {
    const t = innerTrials(kind, r.tool, r.pair);
    inner[r.tool].push(...t);
    fixed[kind][r.tool].push(r.seconds - t.reduce((a, b) => a + b, 0));
  }
}
const im = median(inner.migdown);
const ib = median(inner.baseline);
say(`| one trial as the tool times it (A and B) | ${inner.migdown.length}+${inner.baseline.length} | ${ms(im)} | ${ms(ib)} | ${r3(im / ib)} | |`);
const f5m = median(rows.filter((r) => r.kind === 'five' && r.tool === 'migdown').map((r) => r.seconds)) / 5;
const f5b = median(rows.filter((r) => r.kind === 'five' && r.tool === 'baseline').map((r) => r.seconds)) / 5;
say(`| per trial, \`--runs 5\` median / 5 | | ${ms(f5m)} | ${ms(f5b)} | ${r3(f5m / f5b)} | |`);
say();
say('Fixed cost per command (command wall time minus the sum of its trials as the tool times them):');
for (const kind of ['one', 'five']) {
  say(`- ${kind === 'one' ? '--runs 1' : '--runs 5'}: migdown median ${ms(median(fixed[kind].migdown))}, baseline median ${ms(median(fixed[kind].baseline))}`);
}
const st = (tool) => rows.filter((r) => r.kind === 'startup' && r.tool === tool).map((r) => r.seconds);
if (st('node-e0').length) {
  say(`- \`node -e 0\`: median ${ms(median(st('node-e0')))} (n=${st('node-e0').length}); \`node bin/migdown.js --version\`: median ${ms(median(st('version')))} (n=${st('version').length})`);
}
const busy = rows.filter((r) => r.busy).length;
const loads = rows.map((r) => r.load);
say(`- samples with another QEMU running: ${busy} of ${rows.length}; 1-min load average during samples: median ${median(loads).toFixed(2)}, max ${Math.max(...loads).toFixed(2)} (nproc ${read('machine.txt').match(/nproc: (\d+)/)?.[1]})`);
say();
say('Peak RSS of the migdown process, `run --ram 1G --runs 5`:');
if (existsSync(path.join(out, 'rss.txt'))) {
  for (const l of read('rss.txt').trim().split('\n')) {
    const kb = Number(/maxrss_kb=(\d+)/.exec(l)?.[1]);
    const hwm = Number(/vmhwm_kb=(\d+)/.exec(l)?.[1]);
    say(`- ${l.split(' maxrss_kb=')[0]}: ru_maxrss ${(kb / 1024).toFixed(1)} MiB, VmHWM ${(hwm / 1024).toFixed(1)} MiB`);
  }
}
if (existsSync(path.join(out, 'time-v.txt'))) {
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(read('time-v.txt'))?.[1]);
  say(`- /usr/bin/time -v "Maximum resident set size": ${(kb / 1024).toFixed(1)} MiB (max over node and the QEMUs it waited for)`);
}
if (existsSync(path.join(out, 'rss-scale.txt'))) {
  for (const l of read('rss-scale.txt').trim().split('\n')) {
    const kb = Number(/maxrss_kb=(\d+)/.exec(l)?.[1]);
    say(`- for scale, ${l.split(':')[0]}: ${(kb / 1024).toFixed(1)} MiB`);
  }
}
say();
say('Raw samples (seconds):');
for (const kind of ['one', 'five', 'startup']) {
  for (const tool of [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.tool))]) {
    const xs = rows.filter((r) => r.kind === kind && r.tool === tool);
    say(`- ${kind} ${tool}: ${xs.map((r) => `${r.seconds.toFixed(3)}${r.busy ? '*' : ''}`).join(' ')}`);
  }
}
say(`- one trial, migdown wallMs: ${inner.migdown.map((s) => Math.round(s * 1000)).join(' ')}`);
say(`- one trial, baseline: ${inner.baseline.map((s) => Math.round(s * 1000)).join(' ')}`);
say('(* = another QEMU was running when the sample started or ended)');
console.log(lines.join('\n'));
