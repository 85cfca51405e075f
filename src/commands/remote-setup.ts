// --dest-host: everything about the remote destination that happens once per command, before
// any VM starts: preflight (one line per problem, exit 2), a private directory there with the
// guest payload in it, and its removal at the end.

import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { RemoteDestination } from '../trial/trial-config.js';
import type { HostFacts, QemuFacts } from '../qemu/facts.js';
import { GUEST_PAYLOAD } from '../guest/builtin.js';
import { assertRemoteReady } from '../remote/preflight.js';
import { formatTarget, migrationEndpoints, randomMigrationPort } from '../remote/host-spec.js';
import { resolveTargetAddress, runRemote, shQuote } from '../remote/ssh.js';
import type { RemotePlan } from './experiment-plan.js';
import type { VmOptions } from './vm-plan.js';

export interface RemoteSetup {
  remote: RemoteDestination;
  facts: { target: string; host: HostFacts; qemu: QemuFacts };
  cleanup(): Promise<void>;
}

/** The plan's --dest-host made ready (checked by planRemote); undefined without one. */
export async function setupRemote(plan: RemotePlan | undefined, vm: VmOptions): Promise<RemoteSetup | undefined> {
  if (!plan) return undefined;
  const { ssh } = plan;
  // A copy: the resolved address is this command's, not the plan's.
  const target = { ...plan.target };
  // An ssh config alias is no DNS name: TCP goes where ssh itself would connect.
  target.address = await resolveTargetAddress(target, ssh);
  // Preflight probes one port; each trial then listens on a fresh one its kernel picks (0),
  // unless the user fixed it (--port, or the port of --migrate-uri) for a firewall.
  const port = vm.port ?? randomMigrationPort();
  const pre = await assertRemoteReady(target, {
    ...ssh,
    qemuPath: plan.qemuPath,
    accel: vm.accel,
    ramBytes: vm.ramBytes,
    port,
    ...(plan.migrateUri !== undefined && { migrateUri: plan.migrateUri }),
  });
  if (!pre.facts?.qemu) throw new UsageError(`--dest-host ${formatTarget(target)}: no usable QEMU found there`);

  // A private directory for this run: the guest payload, and the trials' serial sockets.
  const payload = vm.guest.kind === 'builtin' ? (await readFile(GUEST_PAYLOAD)).toString('base64') : '';
  const made = await runRemote(
    target,
    `d=$(mktemp -d /tmp/migdown-XXXXXX) && chmod 700 "$d" && ${payload ? 'base64 -d > "$d/migdown-guest.elf" && ' : ''}echo "$d"`,
    { ...ssh, ...(payload && { input: payload }) },
  );
  const dir = made.stdout.trim().split('\n').pop() ?? '';
  if (made.exitCode !== 0 || !dir.startsWith('/tmp/migdown-')) {
    throw new UsageError(`--dest-host ${formatTarget(target)}: cannot set up a directory there: ${made.stderr.trim().split('\n').pop() ?? 'no reason given'}`);
  }
  return {
    remote: { target, ssh, qemu: pre.facts.qemu, endpoints: migrationEndpoints(target, vm.port ?? 0, plan.migrateUri), dir },
    facts: { target: formatTarget(target), host: pre.facts.host, qemu: pre.facts.qemu },
    cleanup: async () => {
      await runRemote(target, `rm -rf ${shQuote(dir)}`, { ...ssh, timeoutMs: 15_000 }).catch(() => undefined);
    },
  };
}
