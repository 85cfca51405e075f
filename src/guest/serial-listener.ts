// migdown listens on a unix socket and QEMU's serial chardev connects to it as a client.
// Listening first (rather than connecting to a QEMU server socket) means not one byte the
// guest writes can be lost before migdown is there, and each chunk is timestamped the moment
// it arrives, which is what guest-observed downtime is measured with.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

export interface SerialChunk {
  data: Buffer;
  /** performance.now() at arrival, ms */
  at: number;
}

export class SerialListener {
  private server: net.Server;
  private sockets = new Set<net.Socket>();
  private listeners = new Set<(chunk: SerialChunk) => void>();
  /** the last output, for error messages ("the guest said ...") */
  private tail = '';

  private constructor(readonly path: string) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('data', (data: Buffer) => {
        const at = performance.now();
        this.tail = (this.tail + data.toString('latin1')).slice(-2048);
        for (const l of this.listeners) l({ data, at });
      });
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => this.sockets.delete(socket));
    });
  }

  static async listen(path: string): Promise<SerialListener> {
    const l = new SerialListener(path);
    await new Promise<void>((resolve, reject) => {
      l.server.once('error', reject);
      l.server.listen(path, () => resolve());
    });
    return l;
  }

  onChunk(fn: (chunk: SerialChunk) => void): void {
    this.listeners.add(fn);
  }

  /** Printable tail of what the guest wrote, heartbeat dots squeezed. */
  lastOutput(max = 300): string {
    return this.tail
      .replace(/[^\x20-\x7e\n]/g, '')
      .replace(/\.{4,}/g, '...')
      .trim()
      .slice(-max);
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}
