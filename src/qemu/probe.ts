// Facts about the QEMU binary and the host, gathered before anything starts.

import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { HostFacts, QemuFacts } from './facts.js';
import { parseQemuVersion, versionString } from './dialect.js';
import { cachedProbeOutput, cachedSha256 } from './hash-cache.js';
import { readKvmHostFacts } from './host-facts.js';

const QEMU_PACKAGE_HINT = 'install the Debian/Ubuntu package qemu-system-x86 (apt-get install -y qemu-system-x86)';

/** Resolve a binary name on PATH the way a shell would, or return undefined. */
export async function which(name: string): Promise<string | undefined> {
  if (name.includes('/')) {
    try {
      await access(name, constants.X_OK);
      return path.resolve(name);
    } catch {
      return undefined;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** One reused 1 MiB buffer: a stream would allocate a chunk per read of an 18 MB binary. */
async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fh = await open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

export async function probeQemu(binary: string, option = '--qemu'): Promise<QemuFacts> {
  const resolved = await which(binary);
  if (!resolved) {
    throw new UsageError(
      binary.includes('/')
        ? `${option}: ${binary} does not exist or is not executable`
        : `${option}: ${binary} not found on PATH; ${QEMU_PACKAGE_HINT}`,
    );
  }
  // Hash while --version runs: both are on the way to every first trial.
  const hashing = cachedSha256(resolved, sha256);
  hashing.catch(() => undefined);
  let failed: { stderr?: unknown; shortMessage?: string } = {};
  const { text, ok } = await cachedProbeOutput(resolved, ['--version'], async () => {
    const r = await execa(resolved, ['--version'], { reject: false, timeout: 15_000, stdin: 'ignore' });
    failed = r;
    const out = String(r.stdout ?? '');
    return { text: out, ok: r.exitCode === 0 && !!parseQemuVersion(out.split('\n')[0] ?? '') };
  });
  const versionLine = text.split('\n')[0] ?? '';
  const version = parseQemuVersion(versionLine);
  if (!ok || !version) {
    const why = (String(failed.stderr ?? '').trim().split('\n')[0] ?? '') || versionLine || failed.shortMessage || 'no output';
    throw new UsageError(`${option}: ${resolved} does not look like QEMU (--version: ${why})`);
  }
  return { path: resolved, version: versionString(version), versionLine, sha256: await hashing };
}

export interface KvmProbe {
  usable: boolean;
  reason: string;
}

/**
 * KVM is usable when /dev/kvm opens read-write for us (what QEMU itself needs). The caller
 * names the device: commands take it from their environment (MIGDOWN_KVM_DEVICE).
 */
export async function probeKvm(device = '/dev/kvm'): Promise<KvmProbe> {
  try {
    const fh = await open(device, 'r+');
    await fh.close();
    return { usable: true, reason: `${device} is usable` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? `${device} does not exist (no KVM in this kernel or machine)`
        : code === 'EACCES' || code === 'EPERM'
          ? `${device} is not accessible to this user (add it to the kvm group)`
          : `${device}: ${(err as Error).message}`;
    return { usable: false, reason };
  }
}

export async function hostFacts(): Promise<HostFacts> {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const cpuinfo = await readFile('/proc/cpuinfo', 'utf8');
    cpuModel = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? cpuModel;
  } catch {
    // not Linux; os.cpus() is good enough
  }
  return {
    hostname: os.hostname(),
    cpuModel,
    kernel: `${os.type()} ${os.release()}`,
    memBytes: os.totalmem(),
    cpus: os.cpus().length,
    kvm: await readKvmHostFacts(),
  };
}
