// The built-in guest in a trial: both QEMUs boot guest/migdown-guest.elf with -kernel (the
// same image and command line on both sides, as migration needs), their serial ports connect
// to sockets migdown listens on, and every heartbeat is timestamped as it arrives. The gap
// between the source's last beat and the destination's first is the downtime the guest saw.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestDriver, GuestObservation, RemotePaths, TouchMode } from './types.js';
import type { HmpClient } from '../qemu/hmp-client.js';
import type { QemuProcess } from '../qemu/process.js';
import { beatContinuity, gapStats, heartbeatGaps, observedDowntime, parseBanner, seqDistance, SerialParser, type SerialEvent } from './heartbeat.js';
import { SerialListener } from './serial-listener.js';

export const GUEST_PAYLOAD = fileURLToPath(new URL('../../guest/migdown-guest.elf', import.meta.url));

export interface BuiltinGuestOptions {
  touch: TouchMode;
  dirtyRateMiBs: number;
  workingSetMiB: number;
  heartbeatMs: number;
  /** how long to wait for READY; touching 16 GiB under TCG takes a while */
  readyTimeoutMs: number;
  /** heartbeats collected before migrating, to show the noise floor (while the monitors are configured) */
  baselineMs: number;
  /** measure the dirty rate with calc_dirty_rate where the QEMU has it */
  measureDirtyRate: boolean;
  payload?: string;
}

class GuestNotReady extends Error {
  override name = 'GuestNotReady';
}

interface SideState {
  listener?: SerialListener;
  parser: SerialParser;
  /** arrival times, ms */
  beats: number[];
  /** the beats' sequence numbers (undefined for a protocol 1 payload), parallel to beats */
  seqs: Array<number | undefined>;
  events: SerialEvent[];
}

export class BuiltinGuest implements GuestDriver {
  private sides: Record<'source' | 'destination', SideState> = {
    source: { parser: new SerialParser(), beats: [], seqs: [], events: [] },
    destination: { parser: new SerialParser(), beats: [], seqs: [], events: [] },
  };
  private waiters = new Set<() => void>();
  private readyAt?: number;
  private touchMs?: number;
  private startedAt = 0;
  private migrateStartedAt?: number;
  private baseline?: GuestObservation['baselineGapMs'];
  /** the baseline being collected: it runs alongside the monitor setup, beforeMigrate waits for it */
  private baselineDone?: Promise<void>;
  private measuredDirtyRate?: number;
  private notes: string[] = [];

  constructor(private readonly opts: BuiltinGuestOptions) {}

  static payloadPath(custom?: string): string {
    return custom ?? GUEST_PAYLOAD;
  }

  /** The -append line; the guest echoes what it took in its banner. */
  appendLine(): string {
    return `touch=${this.opts.touch} dirty=${Math.round(this.opts.dirtyRateMiBs)} ws=${Math.round(this.opts.workingSetMiB)} hbus=${Math.round(this.opts.heartbeatMs * 1000)}`;
  }

  async prepare(runDir: string): Promise<void> {
    this.startedAt = performance.now();
    for (const side of ['source', 'destination'] as const) {
      const state = this.sides[side];
      state.listener = await SerialListener.listen(path.join(runDir, `${side === 'source' ? 'src' : 'dst'}.serial`));
      state.listener.onChunk(({ data, at }) => {
        for (const ev of state.parser.feed(data, at)) {
          if (ev.type === 'beat') {
            state.beats.push(ev.at);
            state.seqs.push(ev.seq);
          } else state.events.push(ev);
        }
        for (const w of this.waiters) w();
      });
    }
  }

  /** On a remote destination: the payload uploaded to its run directory. */
  static remotePayload(remote: RemotePaths): string {
    return `${remote.dir}/migdown-guest.elf`;
  }

  private static remoteSerial(remote: RemotePaths): string {
    return `${remote.dir}/${remote.trial}.dst.serial`;
  }

  /**
   * The remote destination's serial socket is forwarded over its SSH session to the local one
   * migdown listens on, so its heartbeats are timestamped by the same clock as the source's.
   */
  remoteSshArgs(runDir: string, remote: RemotePaths): string[] {
    return ['-o', 'ExitOnForwardFailure=yes', '-R', `${BuiltinGuest.remoteSerial(remote)}:${path.join(runDir, 'dst.serial')}`];
  }

  qemuArgs(side: 'source' | 'destination', runDir: string, remote?: RemotePaths): string[] {
    const sock = remote && side === 'destination' ? BuiltinGuest.remoteSerial(remote) : path.join(runDir, `${side === 'source' ? 'src' : 'dst'}.serial`);
    return [
      '-kernel',
      remote && side === 'destination' ? BuiltinGuest.remotePayload(remote) : BuiltinGuest.payloadPath(this.opts.payload),
      '-append',
      this.appendLine(),
      // QEMU connects as a client to the socket migdown already listens on: nothing is lost.
      '-chardev',
      `socket,id=migdown-serial,path=${sock}`,
      '-serial',
      'chardev:migdown-serial',
      '-no-reboot',
    ];
  }

  private async until(check: () => boolean, timeoutMs: number, proc?: QemuProcess, signal?: AbortSignal): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
      if (signal?.aborted) throw signal.reason;
      if (proc?.exitInfo) return false;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 200));
        this.waiters.add(done);
      });
    }
    return true;
  }

  private findEvent<T extends SerialEvent['type']>(side: 'source' | 'destination', type: T): Extract<SerialEvent, { type: T }> | undefined {
    return this.sides[side].events.find((e) => e.type === type) as Extract<SerialEvent, { type: T }> | undefined;
  }

  async waitReady(_runDir: string, source: QemuProcess, signal?: AbortSignal): Promise<void> {
    const src = this.sides.source;
    const failed = () => src.events.some((e) => e.type === 'text' && /^(ERR|PANIC) /.test(e.line));
    const ok = await this.until(() => Boolean(this.findEvent('source', 'ready')) || failed(), this.opts.readyTimeoutMs, source, signal);
    const last = src.listener?.lastOutput() || '(nothing)';
    if (!ok || failed()) {
      const why = failed() ? 'the guest failed' : source.exitInfo ? `QEMU ${source.exitInfo.reason}` : `no READY within ${Math.round(this.opts.readyTimeoutMs / 1000)} s`;
      throw new GuestNotReady(`guest not ready (awaited "READY" on the source serial port): ${why}; last serial output: ${last}`);
    }
    this.readyAt = this.findEvent('source', 'ready')!.at;
    // The banner comes right before touching starts: banner to READY is the touch alone,
    // without QEMU's and the firmware's start.
    const bannerEvent = src.events.find((e) => e.type === 'text' && parseBanner(e.line));
    if (bannerEvent) this.touchMs = Math.round(this.readyAt - bannerEvent.at);
    const banner = src.events.map((e) => (e.type === 'text' ? parseBanner(e.line) : undefined)).find(Boolean);
    if (banner && this.opts.touch !== 'none' && banner.ramMiB === 0) this.notes.push('the guest found no RAM to touch');
    if (this.opts.heartbeatMs > 0) {
      // The heartbeats start after the TSC calibration line.
      await this.until(() => Boolean(this.findEvent('source', 'tsc')), 5_000, source, signal);
      // Collect a baseline of heartbeat gaps while nothing migrates (the noise floor), during
      // the monitor commands that set up the migration rather than before them.
      const from = performance.now();
      this.baselineDone = this.until(() => performance.now() - from >= this.opts.baselineMs, this.opts.baselineMs + 1000, source, signal).then(() => {
        const s = gapStats(heartbeatGaps(src.beats.filter((t) => t >= from)));
        if (s.n > 0) this.baseline = { median: round(s.median), p99: round(s.p99), max: round(s.max), n: s.n };
      });
      // Awaited in beforeMigrate or finish; an abort surfaces there, not as an unhandled rejection.
      this.baselineDone.catch(() => undefined);
    }
  }

  async beforeMigrate(monitor: HmpClient, record: (command: string, reply: string) => void, commands?: Set<string>): Promise<void> {
    await this.baselineDone;
    if (this.opts.measureDirtyRate && this.opts.dirtyRateMiBs > 0) {
      if (commands && !commands.has('calc_dirty_rate')) {
        this.notes.push('this QEMU has no calc_dirty_rate; the dirty rate was not measured');
      } else {
        try {
          // Bitmap mode counts every page written (sampling mode estimates); older QEMU lacks it.
          let command = 'calc_dirty_rate -b 1';
          const start = await monitor.command(command).catch(async () => {
            command = 'calc_dirty_rate 1';
            return monitor.command(command);
          });
          record(command, start);
          for (let i = 0; i < 50; i++) {
            await sleep(200);
            const reply = await monitor.command('info dirty_rate');
            if (/Status:\s*measured/i.test(reply)) {
              record('info dirty_rate', reply);
              const m = /Dirty rate:\s*(\d+(?:\.\d+)?)\s*\(?MB\/s/i.exec(reply);
              if (m) this.measuredDirtyRate = Number(m[1]);
              break;
            }
          }
        } catch (err) {
          this.notes.push(`calc_dirty_rate failed: ${(err as Error).message}`);
        }
      }
    }
    this.migrateStartedAt = performance.now();
  }

  async finish(migrationCompleted: boolean): Promise<GuestObservation> {
    if (migrationCompleted && this.opts.heartbeatMs > 0) {
      // The destination resumes a moment after the source reports completion.
      await this.until(() => this.sides.destination.beats.length > 0, 5_000);
      // Settle: let beats that were in flight on the source socket arrive.
      await sleep(Math.max(5, 3 * this.opts.heartbeatMs));
    }
    const obs: GuestObservation = {
      heartbeatPeriodMs: this.opts.heartbeatMs,
      ...(this.readyAt !== undefined && { readyAfterMs: Math.round(this.readyAt - this.startedAt) }),
      ...(this.touchMs !== undefined && { touchMs: this.touchMs }),
      ...(this.baseline && { baselineGapMs: this.baseline }),
      requestedDirtyRateMiBs: this.opts.dirtyRateMiBs,
      ...(this.measuredDirtyRate !== undefined && { measuredDirtyRateMiBs: this.measuredDirtyRate }),
    };
    if (migrationCompleted && this.opts.heartbeatMs > 0) {
      const src = this.sides.source;
      const dst = this.sides.destination;
      const from = src.beats.findIndex((t) => this.migrateStartedAt === undefined || t >= this.migrateStartedAt);
      const gap = observedDowntime(from < 0 ? [] : src.beats.slice(from), dst.beats);
      if (gap) obs.beats = this.beatAccount(from < 0 ? src.beats.length : from);
      if (gap && gap.gapMs >= 0) obs.observedDowntimeMs = round(gap.gapMs);
      else if (gap) this.notes.push('source and destination heartbeats overlap: guest-observed downtime not trustworthy for this trial');
      else this.notes.push('no heartbeat from the destination after the switchover');
    }
    if (this.notes.length) obs.note = this.notes.join('; ');
    return obs;
  }

  /**
   * The beats' own account of the switchover: lost or merged beats on each side while
   * migrating, and whether the destination's first beat follows the source's last one.
   */
  private beatAccount(from: number): NonNullable<GuestObservation['beats']> {
    const src = this.sides.source;
    const dst = this.sides.destination;
    const side = (s: SideState, start: number) => beatContinuity(s.beats.slice(start).map((at, i) => ({ at, seq: s.seqs[start + i] })));
    const lastSource = src.seqs.at(-1);
    const firstDestination = dst.seqs[0];
    const out: NonNullable<GuestObservation['beats']> = { source: side(src, from), destination: side(dst, 0) };
    // Beats read in one chunk share an arrival time: more than one at either edge of the gap
    // means the reader was late exactly there.
    const lastAt = src.beats.at(-1);
    const firstAt = dst.beats[0];
    if (lastAt !== undefined) out.lastSourceChunkBeats = src.beats.filter((t) => t === lastAt).length;
    if (firstAt !== undefined) out.firstDestinationChunkBeats = dst.beats.filter((t) => t === firstAt).length;
    if (lastSource !== undefined && firstDestination !== undefined) {
      out.lastSourceSeq = lastSource;
      out.firstDestinationSeq = firstDestination;
      out.unseenAcrossSwitchover = seqDistance(lastSource, firstDestination) - 1;
      if (out.unseenAcrossSwitchover > 0) {
        this.notes.push(`${out.unseenAcrossSwitchover} heartbeat(s) between the source's last and the destination's first were never seen`);
      }
    }
    return out;
  }

  close(): void {
    for (const s of Object.values(this.sides)) s.listener?.close();
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
