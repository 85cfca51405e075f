// What the steps of one trial (trial-steps.ts) pass between them, instead of a function's
// worth of mutable variables: the plan fixed before any QEMU starts, the processes and
// monitors as they come up, and the outcome that becomes the trial's record.

import type { Dialect } from '../qemu/dialect.js';
import type { MonitorExchange } from '../qemu/facts.js';
import { HmpError, type HmpClient } from '../qemu/hmp-client.js';
import type { QemuProcess } from '../qemu/process.js';
import type { GuestDriver } from '../guest/types.js';
import type { Destination } from './destination.js';
import type { PhaseClock } from './phases.js';
import type { TrialConfig, TrialContext } from './trial-config.js';
import type { ProgressSample, TrialRecord } from './types.js';

type Side = MonitorExchange['side'];

/** Everything decided before a QEMU starts. */
export interface TrialPlan {
  cfg: TrialConfig;
  ctx: TrialContext;
  /** the trial's private local directory (monitor sockets, trace logs, the guest's files) */
  runDir: string;
  dest: Destination;
  guest?: GuestDriver;
  phases: PhaseClock;
  /** ms since the trial started, to 0.1 ms */
  at: () => number;
  log: MonitorLog;
  samples: ProgressSample[];
  argv: Record<Side, string[]>;
  monitorPaths: Record<Side, string>;
  /** the source's trace log (written with cfg.trace) */
  sourceTrace: string;
  capabilities: [string, boolean][];
  params: [string, string][];
  /**
   * The seed's `-incoming tcp:...` listens at once. Capabilities and parameters must be set on
   * the destination before it accepts the stream, which `-incoming defer` allows.
   */
  deferIncoming: boolean;
}

/** What has been started so far: what teardown must stop. */
export interface Running {
  src?: QemuProcess;
  dst?: QemuProcess;
  srcMon?: HmpClient;
  dstMon?: HmpClient;
}

/** Both QEMUs up, their monitors connected, the source's dialect known from its `help`. */
export interface Launched extends Required<Running> {
  dialect: Dialect;
  help: string;
}

/** What the trial found, field by field as its record carries it. */
export type Outcome = Pick<TrialRecord, 'status' | 'reason' | 'info' | 'rawInfo' | 'destinationStatus' | 'guest' | 'breakdown' | 'hugePages'>;

/** Every monitor exchange of a trial, in order, each stamped with its time in the trial. */
export class MonitorLog {
  readonly exchanges: MonitorExchange[] = [];

  constructor(private readonly at: () => number) {}

  record(side: Side, command: string, reply: string): void {
    this.exchanges.push({ side, command, reply, atMs: this.at() });
  }

  /** Send one command and record it with its reply, or with QEMU's error when it fails. */
  async send(side: Side, mon: HmpClient, command: string, timeoutMs?: number): Promise<string> {
    try {
      const reply = await mon.command(command, timeoutMs);
      this.record(side, command, reply);
      return reply;
    } catch (err) {
      this.record(side, command, err instanceof HmpError ? err.qemuMessage : `(${(err as Error).message})`);
      throw err;
    }
  }

  /** Keep the last exchange's command but not its (long) reply. */
  replaceLastReply(reply: string): void {
    this.exchanges[this.exchanges.length - 1]!.reply = reply;
  }
}
