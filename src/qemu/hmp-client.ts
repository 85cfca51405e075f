// An HMP client over QEMU's monitor unix socket: one command at a time, each with a deadline.

import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { classifyReply, extractReply, greetingComplete, replyComplete } from './hmp-framing.js';
import { hmpLineProblem } from './hmp-safe.js';

export class HmpError extends Error {
  override name = 'HmpError';
  constructor(
    readonly command: string,
    /** QEMU's own words */
    readonly qemuMessage: string,
  ) {
    super(`${command}: ${qemuMessage}`);
  }
}

export class HmpUnknownCommandError extends HmpError {
  override name = 'HmpUnknownCommandError';
}

export class HmpTimeoutError extends Error {
  override name = 'HmpTimeoutError';
  constructor(readonly command: string, readonly timeoutMs: number) {
    super(`no reply to "${command}" within ${timeoutMs} ms`);
  }
}

export class HmpClosedError extends Error {
  override name = 'HmpClosedError';
}

/** A command line the client will not send: its bytes would edit the monitor's line. */
export class HmpRefusedError extends Error {
  override name = 'HmpRefusedError';
}

export interface HmpOptions {
  /** how long to keep trying to connect while QEMU creates the socket */
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
  /** resolves when the QEMU process exits, so waiting stops at once */
  processExited?: Promise<unknown>;
}

export class HmpClient {
  private buffer = '';
  private waiter?: () => void;
  private closed = false;
  private closeReason = 'monitor connection closed';
  /** greeting line, e.g. "QEMU 7.2.22 monitor - type 'help' for more information" */
  greeting = '';

  private constructor(private readonly socket: net.Socket, private readonly commandTimeoutMs: number) {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiter?.();
    });
    const onEnd = () => {
      this.closed = true;
      this.waiter?.();
    };
    socket.on('close', onEnd);
    socket.on('error', (err) => {
      this.closeReason = err.message;
      onEnd();
    });
  }

  static async connect(path: string, opts: HmpOptions = {}): Promise<HmpClient> {
    const deadline = Date.now() + (opts.connectTimeoutMs ?? 10_000);
    let exited = false;
    opts.processExited?.then(() => (exited = true), () => (exited = true));
    let lastError = '';
    // QEMU creates the socket some time after exec; retry until it accepts or QEMU exits.
    while (Date.now() < deadline && !exited) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        const client = new HmpClient(socket, opts.commandTimeoutMs ?? 10_000);
        await client.waitFor(greetingComplete, 'greeting', Math.max(1000, deadline - Date.now()));
        client.greeting = client.buffer.split('\r\n')[0] ?? '';
        client.buffer = '';
        return client;
      } catch (err) {
        lastError = (err as Error).message;
        await sleep(20);
      }
    }
    throw new HmpClosedError(exited ? 'QEMU exited before its monitor answered' : `monitor did not answer at ${path}: ${lastError}`);
  }

  private async waitFor(done: (raw: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.buffer)) {
      if (this.closed) throw new HmpClosedError(`${this.closeReason} while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new HmpTimeoutError(what, timeoutMs);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.buffer;
  }

  /**
   * Send one command line and return its output. `Error: ...` and `unknown command` replies
   * throw HmpError / HmpUnknownCommandError carrying QEMU's words.
   */
  async command(line: string, timeoutMs = this.commandTimeoutMs): Promise<string> {
    const unsafe = hmpLineProblem(line);
    if (unsafe) throw new HmpRefusedError(unsafe);
    if (this.closed) throw new HmpClosedError(`${this.closeReason}; cannot send "${line}"`);
    this.buffer = '';
    this.socket.write(`${line}\n`);
    const raw = await this.waitFor(replyComplete, line, timeoutMs);
    this.buffer = '';
    const reply = classifyReply(extractReply(raw));
    if (reply.kind === 'unknown-command') throw new HmpUnknownCommandError(line, `unknown command: '${reply.command}'`);
    if (reply.kind === 'error') throw new HmpError(line, reply.message);
    return reply.output;
  }

  /** Send `quit`: QEMU closes the socket instead of answering, so don't wait for a prompt. */
  sendQuit(): void {
    if (!this.closed) this.socket.write('quit\n');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
