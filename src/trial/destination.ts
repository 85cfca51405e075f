// Where a trial's destination QEMU runs: on this host, or on another one reached over SSH
// (--dest-host). Both are one Destination, so a trial's steps never ask which.

import path from 'node:path';
import type { QemuFacts } from '../qemu/facts.js';
import { readQemuHugePages, type QemuHugePages } from '../qemu/host-facts.js';
import { exitExplanation, spawnQemu, type QemuProcess } from '../qemu/process.js';
import type { GuestDriver, RemotePaths } from '../guest/types.js';
import { listeningUri } from '../remote/host-spec.js';
import { startRemoteQemu } from '../remote/remote-qemu.js';
import { freeLoopbackPort } from '../util/net.js';
import type { RemoteDestination, TrialConfig } from './trial-config.js';

export interface Destination {
  /** the destination's QEMU: the binary it runs and the version its argv is written for */
  readonly qemu: QemuFacts;
  /** where it listens for the migration stream (`-incoming`, `migrate_incoming`) */
  readonly incomingUri: string;
  /** its private directory on another host, for the guest's files there; absent: runDir */
  readonly guestPaths?: RemotePaths;
  /** where its trace log can be read after the trial; absent: it writes none */
  readonly traceLog?: string;
  /** Start its QEMU; the monitor at `monitorPath` answers once QEMU is up. */
  start(argv: string[], monitorPath: string, guest: GuestDriver | undefined): Promise<QemuProcess>;
  /** What the source's `migrate -d` is given; `ask` sends one command to this side's monitor. */
  migrateUri(ask: (command: string) => Promise<string>): Promise<string>;
  /** Why the migration cannot go on though the source may not notice for minutes; undefined: it can. */
  lost(dst: QemuProcess): string | undefined;
  /** Its QEMU's huge pages now, where this host can see them. */
  hugePages(dst: QemuProcess): Promise<QemuHugePages | undefined>;
}

/** The trial's destination: cfg.remote's host, else this one (on a free loopback port unless cfg.port). */
export async function openDestination(cfg: TrialConfig, runDir: string): Promise<Destination> {
  if (cfg.remote) return remoteDestination(cfg.remote, runDir);
  return localDestination(cfg.qemu, runDir, cfg.port ?? (await freeLoopbackPort()));
}

function localDestination(qemu: QemuFacts, runDir: string, port: number): Destination {
  const uri = `tcp:127.0.0.1:${port}`;
  return {
    qemu,
    incomingUri: uri,
    traceLog: path.join(runDir, 'dst.trace.log'),
    start: async (argv) => spawnQemu('destination', qemu.path, argv),
    migrateUri: async () => uri,
    // A destination on this host that exits fails the source's migration at once.
    lost: () => undefined,
    hugePages: (dst) => readQemuHugePages(dst.pid),
  };
}

function remoteDestination(remote: RemoteDestination, runDir: string): Destination {
  const guestPaths: RemotePaths = { dir: remote.dir, trial: path.basename(runDir) };
  return {
    qemu: remote.qemu,
    incomingUri: remote.endpoints.incoming,
    guestPaths,
    // No traceLog: trace logs stay local only, a remote breakdown would need clocks we cannot compare.
    start: (argv, monitorPath, guest) =>
      startRemoteQemu(remote.target, remote.qemu.path, argv, {
        ...remote.ssh,
        role: 'destination',
        monitorPath,
        extraSshArgs: guest?.remoteSshArgs?.(runDir, guestPaths) ?? [],
      }),
    migrateUri: async (ask) => {
      if (remote.endpoints.port !== 0) return remote.endpoints.migrate;
      // The destination's kernel chose this trial's port: ask the destination which.
      const uri = listeningUri(await ask('info migrate'), remote.endpoints);
      if (!uri) throw new Error(`the destination QEMU does not say which port it listens on for ${remote.endpoints.incoming}`);
      return uri;
    },
    // A lost link leaves the source 'active' until TCP gives up, minutes later.
    lost: (dst) => (dst.exitInfo ? exitExplanation(dst) : undefined),
    hugePages: async () => undefined,
  };
}
