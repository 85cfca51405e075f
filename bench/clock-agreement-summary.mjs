#!/usr/bin/env node
// The agreement table of bench/clock-agreement.sh from its results files.
import { readFileSync } from 'node:fs';
import path from 'node:path';

console.log('| file | trials with both | honest (in [-0.5, P+0.5]) | flagged (> 2P) | median diff ms | min | max | gap edges read late | flagged with edges on time | beats merged src/dst | lost | noise floor p99 median ms |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
const medianOf = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
for (const f of process.argv.slice(2)) {
  const lines = readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const ts = lines.filter((l) => l.kind === 'trial' && !l.warmup && l.status === 'completed');
  const cs = ts.map((t) => t.clocks).filter(Boolean);
  const ds = cs.map((c) => c.differenceMs).sort((a, b) => a - b);
  const med = ds.length ? (ds.length % 2 ? ds[(ds.length - 1) / 2] : (ds[ds.length / 2 - 1] + ds[ds.length / 2]) / 2) : NaN;
  const sum = (pick) => ts.reduce((a, t) => a + (pick(t) ?? 0), 0);
  console.log(
    `| ${path.basename(f)} | ${cs.length}/${lines.filter((l) => l.kind === 'trial').length} | ${cs.filter((c) => c.honest).length} | ${cs.filter((c) => c.flagged).length} | ${med.toFixed(2)} | ${ds[0]?.toFixed(2)} | ${ds.at(-1)?.toFixed(2)} | ` +
      `${ts.some((t) => t.guest?.beats?.firstDestinationChunkBeats !== undefined) ? ts.filter((t) => (t.guest?.beats?.lastSourceChunkBeats ?? 1) > 1 || (t.guest?.beats?.firstDestinationChunkBeats ?? 1) > 1).length : 'n/a'} | ` +
      `${ts.some((t) => t.guest?.beats?.firstDestinationChunkBeats !== undefined) ? ts.filter((t) => t.clocks?.flagged && t.guest?.beats?.lastSourceChunkBeats === 1 && t.guest?.beats?.firstDestinationChunkBeats === 1).length : 'n/a'} | ` +
      `${sum((t) => t.guest?.beats?.source.merged)}/${sum((t) => t.guest?.beats?.destination.merged)} | ${sum((t) => (t.guest?.beats?.source.lost ?? 0) + (t.guest?.beats?.destination.lost ?? 0) + (t.guest?.beats?.unseenAcrossSwitchover ?? 0))} | ` +
      `${medianOf(ts.map((t) => t.guest?.baselineGapMs?.p99).filter((x) => x !== undefined)).toFixed(2)} |`,
  );
  console.log(`  differences: ${ds.map((d) => d.toFixed(2)).join(' ')}`);
  const lags = ts.map((t) => t.breakdown?.vcpusStoppedAfterMs).filter((x) => x !== undefined);
  if (lags.length) console.log(`  vCPUs paused after src-downtime-start: median ${medianOf(lags).toFixed(2)} ms, max ${Math.max(...lags).toFixed(2)} ms`);
}
