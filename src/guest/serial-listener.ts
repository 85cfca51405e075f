// migdown listens on a unix socket and QEMU's serial chardev connects to it as a client.
// Listening first (rather than connecting to a QEMU server socket) means not one byte the
// guest writes can be lost before migdown is there.
//
// Each chunk is timestamped the moment it arrives, and that timestamp is what guest-observed
// downtime is measured with. The sockets are owned by a worker thread that does nothing else:
// the main event loop is busiest exactly at the switchover (polling `info migrate`, both
// monitors' replies, progress output), and a chunk it read late was stamped late — by up to
// 7 ms in real trials, against a 1 ms heartbeat. The worker stamps with process.hrtime (one
// monotonic clock for all threads) and hands the chunk over; when the main loop gets to it no
// longer matters. bench/serial-clock.mjs measured this against a separate reader process and
// the old main-loop reader (docs/benchmarks.md, "Serial timestamps").

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

export interface SerialChunk {
  data: Buffer;
  /** arrival time on the performance.now() scale of the main thread, ms */
  at: number;
}

/**
 * The reader thread's code (CommonJS, run with `eval`: no file to find at run time, the same
 * under tsc's dist/ and under vitest's source transform). One thread serves every listener.
 */
const READER_SOURCE = `
const net = require('node:net');
const { parentPort } = require('node:worker_threads');
const servers = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'listen') {
    const sockets = new Set();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (data) => {
        const hr = process.hrtime.bigint();
        // a copy of its own: the chunk may be a view into a larger pooled buffer
        const copy = new Uint8Array(data);
        parentPort.postMessage({ op: 'data', id: m.id, hr, data: copy }, [copy.buffer]);
      });
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => sockets.delete(socket));
    });
    servers.set(m.id, { server, sockets });
    server.once('error', (err) => parentPort.postMessage({ op: 'error', id: m.id, message: String(err && err.message) }));
    server.listen(m.path, () => parentPort.postMessage({ op: 'listening', id: m.id }));
  } else if (m.op === 'close') {
    const s = servers.get(m.id);
    if (!s) return;
    servers.delete(m.id);
    for (const socket of s.sockets) socket.destroy();
    s.server.close();
  }
});
`;

type FromReader =
  | { op: 'data'; id: number; hr: bigint; data: Uint8Array }
  | { op: 'listening'; id: number }
  | { op: 'error'; id: number; message: string };

// process.hrtime and performance.now() tick on the same monotonic clock (uv_hrtime); their
// offset is fixed for the life of the process, so one reading converts every stamp.
const HR_TO_PERF_MS = Number(process.hrtime.bigint()) / 1e6 - performance.now();
const perfMsOf = (hr: bigint) => Number(hr) / 1e6 - HR_TO_PERF_MS;

interface Registration {
  onData: (chunk: SerialChunk) => void;
  onListening: (err?: Error) => void;
}

/** The one reader thread, referenced only while some listener is open. */
class ReaderThread {
  private static instance?: ReaderThread;
  private worker: Worker;
  private regs = new Map<number, Registration>();
  private nextId = 1;

  private constructor() {
    this.worker = new Worker(READER_SOURCE, { eval: true });
    this.worker.on('message', (m: FromReader) => {
      const reg = this.regs.get(m.id);
      if (!reg) return;
      if (m.op === 'data') reg.onData({ data: Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), at: perfMsOf(m.hr) });
      else if (m.op === 'listening') reg.onListening();
      else reg.onListening(new Error(m.message));
    });
    this.worker.on('error', (err) => {
      for (const reg of this.regs.values()) reg.onListening(err);
    });
    this.worker.on('exit', () => {
      if (ReaderThread.instance === this) ReaderThread.instance = undefined;
    });
    this.worker.unref();
  }

  static current(): ReaderThread | undefined {
    return ReaderThread.instance;
  }

  static get(): ReaderThread {
    return (ReaderThread.instance ??= new ReaderThread());
  }

  listen(path: string, reg: Registration): number {
    const id = this.nextId++;
    this.regs.set(id, reg);
    if (this.regs.size === 1) this.worker.ref();
    this.worker.postMessage({ op: 'listen', id, path });
    return id;
  }

  close(id: number): void {
    if (!this.regs.delete(id)) return;
    this.worker.postMessage({ op: 'close', id });
    if (this.regs.size === 0) this.worker.unref();
  }
}

export class SerialListener {
  private id = 0;
  private listeners = new Set<(chunk: SerialChunk) => void>();
  /** the last output, for error messages ("the guest said ...") */
  private tail = '';

  private constructor(readonly path: string) {}

  static async listen(path: string): Promise<SerialListener> {
    const l = new SerialListener(path);
    const thread = ReaderThread.get();
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      l.id = thread.listen(path, {
        onData: (chunk) => {
          l.tail = (l.tail + chunk.data.toString('latin1')).slice(-2048);
          for (const fn of l.listeners) fn(chunk);
        },
        onListening: (err) => {
          if (settled) return;
          settled = true;
          if (err) {
            thread.close(l.id);
            reject(err);
          } else resolve();
        },
      });
    });
    return l;
  }

  onChunk(fn: (chunk: SerialChunk) => void): void {
    this.listeners.add(fn);
  }

  /** Printable tail of what the guest wrote, heartbeat bytes squeezed. */
  lastOutput(max = 300): string {
    return this.tail
      .replace(/[^\x20-\x7e\n]+/g, '...')
      .replace(/\.{4,}/g, '...')
      .trim()
      .slice(-max);
  }

  close(): void {
    ReaderThread.current()?.close(this.id);
  }
}
