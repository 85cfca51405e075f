// QEMU before 8.2: no downtime checkpoints, but the pause bracketed by run-state changes and the
// dirty-log stop from global_dirty_changed (6.2+) or KVM slot updates alone (5.2). Real 5.2.0
// and 7.2.22 logs (test/fixtures/trace/README.md), and one synthetic-but-realistic 7.2 log whose
// stop lands inside the pause, as the seed's "without this patch" QEMU stopped it.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LEGACY_TRACE_EVENTS, TRACE_EVENTS, computeBreakdown, tracePlanOf } from '../../src/trace/breakdown.js';
import { compareBreakdowns, summarizeBreakdowns } from '../../src/stats/breakdown.js';

const fixture = (dir: string, name: string) => readFileSync(new URL(`../fixtures/${dir}/${name}`, import.meta.url), 'utf8');
const pair = (name: string) => [fixture('trace', `${name}.source.log`), fixture('trace', `${name}.destination.log`)] as const;
const help = (v: string) => fixture('versions', `${v}/trace-help-migration.txt`);

describe('tracePlanOf: what each version can be asked', () => {
  it('takes the checkpoints where they exist (10.0, 11.1)', () => {
    for (const v of ['10.0.2', '11.1.3']) expect(tracePlanOf(help(v)).mode).toBe('checkpoints');
    expect(tracePlanOf(help('10.0.2')).events).toEqual([...TRACE_EVENTS]);
  });

  it('falls back to the run-state and slot events on 7.2 and 5.2, leaving out what a version lacks', () => {
    // The fixtures hold the migration-related part of -trace help; the KVM and run-state events
    // are added as the real binaries list them (checked with -trace help on both).
    const extra = '\nrunstate_set\nvm_state_notify\nkvm_set_user_memory\n';
    const p72 = tracePlanOf(help('7.2.22') + extra + 'global_dirty_changed\n');
    expect(p72.mode).toBe('legacy');
    expect(p72.events).toEqual([...LEGACY_TRACE_EVENTS]);
    const p52 = tracePlanOf(help('5.2.0') + extra);
    expect(p52.mode).toBe('legacy');
    expect(p52.events).toEqual(['runstate_set', 'vm_state_notify', 'migrate_set_state', 'savevm_state_complete_precopy', 'kvm_set_user_memory']);
    expect(tracePlanOf(help('5.2.0')).mode).toBe('none');
    expect(tracePlanOf(undefined as unknown as string).mode).toBe('none');
  });
});

describe('computeBreakdown without checkpoints', () => {
  it('5.2: brackets the pause and finds dirty logging still on (stop postponed)', () => {
    const [s, d] = pair('qemu-5.2.0-legacy');
    const b = computeBreakdown(s, d, { sameHost: true });
    expect(b.available).toBe(false);
    expect(b.legacyPause).toEqual({ from: 'source runstate_set finish-migrate', to: 'destination runstate_set running', ms: expect.any(Number) });
    expect(b.legacyPause!.ms).toBeGreaterThan(0);
    expect(b.dirtyLogStop.inPause).toBe(false);
    expect(b.dirtyLogStop.startedAtMsRelativeToPauseStart).toBeLessThan(0);
    expect(b.dirtyLogStop.note).toMatch(/no KVM slot was re-registered without dirty logging/);
  });

  it('7.2: the same from global_dirty_changed', () => {
    const [s, d] = pair('qemu-7.2.22-legacy');
    const b = computeBreakdown(s, d, { sameHost: true });
    // runstate_set finish-migrate at .310955, destination running at .314679
    expect(b.legacyPause?.ms).toBe(3.724);
    expect(b.dirtyLogStop.inPause).toBe(false);
    expect(b.dirtyLogStop.note).toMatch(/postpones stopping it while the VM is stopped/);
  });

  it('7.2 cancelled: the stop is outside any pause, and its slot updates are timed', () => {
    const [s, d] = pair('qemu-7.2.22-legacy-cancelled');
    const b = computeBreakdown(s, d, { sameHost: true });
    expect(b.legacyPause).toBeUndefined();
    expect(b.dirtyLogStop.inPause).toBeUndefined();
    // global_dirty_changed 0x0 at .757086, last slot dropping the flag at .758479
    expect(b.dirtyLogStop.durationMs).toBe(1.393);
  });

  it('synthetic 7.2 "without this patch": the stop inside the pause, and how long it took', () => {
    const [s, d] = pair('qemu-7.2.22-synthetic-stop-in-pause');
    const b = computeBreakdown(s, d, { sameHost: true });
    expect(b.dirtyLogStop.inPause).toBe(true);
    expect(b.dirtyLogStop.atMsRelativeToPauseStart).toBe(1.168);
    expect(b.dirtyLogStop.durationMs).toBe(1.393);
    expect(b.dirtyLogStop.note).toMatch(/inside the pause, 1\.168 ms after it began, taking 1\.393 ms/);
  });

  it('5.2 from slot updates alone: a stop inside the pause is found without global_dirty_changed', () => {
    const [s, d] = pair('qemu-7.2.22-synthetic-stop-in-pause');
    const without = s.split('\n').filter((l) => !l.includes('global_dirty_changed')).join('\n');
    const b = computeBreakdown(without, d, { sameHost: true });
    expect(b.dirtyLogStop.inPause).toBe(true);
    // from the thread's previous line (savevm_state_complete_precopy, .312120) to the last update
    expect(b.dirtyLogStop.durationMs).toBe(1.396);
  });

  it('a compare shows the change: stop moved out of the pause', () => {
    const without = computeBreakdown(...pair('qemu-7.2.22-synthetic-stop-in-pause'), { sameHost: true });
    const withPatch = computeBreakdown(...pair('qemu-7.2.22-legacy'), { sameHost: true });
    const a = summarizeBreakdowns([without, without]);
    const b = summarizeBreakdowns([withPatch]);
    expect(a.dirtyLogStop).toMatchObject({ inPause: 2, outside: 0, durationMs: { medianMs: 1.393 } });
    expect(b.dirtyLogStop).toMatchObject({ inPause: 0, outside: 1 });
    expect(a.legacyPauseMs?.medianMs).toBe(5.125);
    expect(compareBreakdowns(a, b).notes[0]).toMatch(/breakdowns available: A 0, B 0/);
  });
});

describe('vm_state_notify in the checkpoint trace', () => {
  it('says how long after src-downtime-start the vCPUs were all paused', () => {
    const [s, d] = pair('qemu-10.0.2-idle');
    const lines = s.split('\n');
    const i = lines.findIndex((l) => l.includes('src-downtime-start'));
    const [tid, rest] = lines[i]!.split('@') as [string, string];
    const t = Number(rest.split(':')[0]);
    // the line QEMU prints once pause_all_vcpus() returned, 0.25 ms after the pause began
    lines.splice(i + 1, 0, `${tid}@${(t + 0.00025).toFixed(6)}:vm_state_notify running 0 reason 7 (finish-migrate)`);
    const b = computeBreakdown(lines.join('\n'), d, { sameHost: true });
    expect(b.vcpusStoppedAfterMs).toBe(0.25);
    expect(computeBreakdown(s, d, { sameHost: true }).vcpusStoppedAfterMs).toBeUndefined();
  });
});
