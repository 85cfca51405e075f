// A user's own disk image as the guest, as the seed migrated its rhel6u5.qcow. Both QEMUs use
// one qcow2 overlay in the run directory backed by the image (shared storage, as migration
// between two hosts would have), so the image itself is never written. Readiness comes from
// a pattern on the serial console or a fixed wait; there is no heartbeat, so no
// guest-observed downtime.

import { execa } from 'execa';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GuestDriver, GuestObservation } from './types.js';
import type { QemuProcess } from '../qemu/process.js';
import { SerialListener } from './serial-listener.js';
import { compileLinearRegex } from '../util/linear-regex.js';

export interface ImageGuestOptions {
  image: string;
  readyPattern?: string;
  bootWaitMs?: number;
  readyTimeoutMs: number;
  qemuImg?: string;
}

export class ImageGuest implements GuestDriver {
  private listener?: SerialListener;
  private text = '';
  private overlay = '';
  private startedAt = 0;
  private readyAfterMs?: number;

  constructor(private readonly opts: ImageGuestOptions) {}

  async prepare(runDir: string): Promise<void> {
    this.startedAt = performance.now();
    this.overlay = path.join(runDir, 'overlay.qcow2');
    const img = this.opts.qemuImg ?? 'qemu-img';
    const info = await execa(img, ['info', '--output=json', this.opts.image], { reject: false, timeout: 30_000 });
    if (info.exitCode !== 0) throw new Error(`qemu-img info ${this.opts.image}: ${String(info.stderr || info.shortMessage).trim()}`);
    const format = (JSON.parse(String(info.stdout)) as { format: string }).format;
    const made = await execa(img, ['create', '-f', 'qcow2', '-F', format, '-b', path.resolve(this.opts.image), this.overlay], {
      reject: false,
      timeout: 30_000,
    });
    if (made.exitCode !== 0) throw new Error(`qemu-img create overlay: ${String(made.stderr || made.shortMessage).trim()}`);
    this.listener = await SerialListener.listen(path.join(runDir, 'src.serial'));
    this.listener.onChunk(({ data }) => {
      this.text = (this.text + data.toString('latin1')).slice(-65_536);
    });
  }

  qemuArgs(side: 'source' | 'destination', runDir: string): string[] {
    const serial =
      side === 'source'
        ? ['-chardev', `socket,id=migdown-serial,path=${path.join(runDir, 'src.serial')}`, '-serial', 'chardev:migdown-serial']
        : ['-serial', 'null'];
    return ['-drive', `file=${this.overlay || path.join(runDir, 'overlay.qcow2')},format=qcow2,if=virtio`, ...serial];
  }

  async waitReady(_runDir: string, source: QemuProcess, signal?: AbortSignal): Promise<void> {
    const deadline = performance.now() + this.opts.readyTimeoutMs;
    if (this.opts.readyPattern !== undefined) {
      // Linear time on the 64 KiB tail, however the pattern is written (checked up front too).
      const re = compileLinearRegex(this.opts.readyPattern, 'm');
      while (!re.test(this.text)) {
        if (signal?.aborted) throw signal.reason;
        if (source.exitInfo) throw new Error(`guest not ready (awaited /${this.opts.readyPattern}/ on the serial console): QEMU ${source.exitInfo.reason}`);
        if (performance.now() > deadline) {
          const last = this.listener?.lastOutput() || '(nothing)';
          throw new Error(`guest not ready: /${this.opts.readyPattern}/ did not appear on the serial console within ${Math.round(this.opts.readyTimeoutMs / 1000)} s; last serial output: ${last}`);
        }
        await sleep(100);
      }
    } else {
      await sleep(this.opts.bootWaitMs ?? 0, undefined, { signal });
    }
    this.readyAfterMs = Math.round(performance.now() - this.startedAt);
  }

  async finish(): Promise<GuestObservation> {
    return { ...(this.readyAfterMs !== undefined && { readyAfterMs: this.readyAfterMs }), note: 'a disk image guest has no heartbeat: no guest-observed downtime' };
  }

  close(): void {
    this.listener?.close();
  }
}
