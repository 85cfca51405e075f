// The local end of a remote QEMU's monitor. The remote QEMU's `-monitor stdio` bytes arrive
// on the ssh session's stdout; a unix socket server at the trial's monitor path hands them to
// one client, and its command lines back, so an HmpClient talks to the remote monitor exactly
// as to a local QEMU's `-monitor unix:` socket.

import { unlink } from 'node:fs/promises';
import net from 'node:net';

const PROMPT = '(qemu) ';

/** A unix socket server listening at `socketPath` (a stale socket there is removed first). */
export async function listenUnix(socketPath: string): Promise<net.Server> {
  await unlink(socketPath).catch(() => undefined);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return server;
}

export class MonitorBridge {
  private client: net.Socket | undefined;
  private greeting = '';
  private greetingDone = false;
  /** QEMU's output until the greeting is done */
  private raw = '';
  private probeSent = false;

  /**
   * @param server the unix socket server at `socketPath` (absent: QEMU has no monitor)
   * @param toMonitor writes one command line to the remote monitor
   */
  constructor(
    private readonly server: net.Server | undefined,
    private readonly socketPath: string | undefined,
    private readonly toMonitor: (line: string) => void,
  ) {
    server?.on('connection', (socket) => this.accept(socket));
  }

  /**
   * Bytes from the remote monitor. QEMU prints a stdio monitor's greeting while it is still
   * starting, before -incoming listens (a unix-socket monitor only answers from the main
   * loop). So the bridge sends one command of its own and shows the greeting to clients only
   * once that is answered: from then on QEMU is in its main loop, exactly where a local
   * monitor connection would find it.
   */
  fromQemu(chunk: Buffer): void {
    if (this.greetingDone) {
      this.client?.write(chunk);
      return;
    }
    this.raw += chunk.toString('latin1');
    const first = this.raw.indexOf(PROMPT);
    if (first < 0) return;
    if (!this.probeSent) {
      this.greeting = this.raw.slice(0, first + PROMPT.length);
      this.probeSent = true;
      this.toMonitor('info version');
    }
    const reply = this.raw.slice(first + PROMPT.length);
    if (!(reply.includes('\r\n') && reply.endsWith(PROMPT))) return;
    this.greetingDone = true;
    this.raw = '';
    this.client?.write(Buffer.from(this.greeting, 'latin1'));
  }

  /** One client at a time: a new connection replaces the old one, as a fresh monitor would. */
  private accept(socket: net.Socket): void {
    this.client?.destroy();
    this.client = socket;
    let pending = '';
    socket.on('data', (data: Buffer) => {
      pending += data.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        this.toMonitor(line);
      }
    });
    const gone = () => {
      if (this.client === socket) this.client = undefined;
    };
    socket.on('close', gone);
    socket.on('error', gone);
    // every connection starts with the greeting, as a unix-socket monitor's does
    if (this.greetingDone) socket.write(Buffer.from(this.greeting, 'latin1'));
  }

  /** The session ended: drop the client, stop listening, remove the socket. */
  close(): void {
    this.client?.destroy();
    if (this.server) {
      this.server.close();
      unlink(this.socketPath!).catch(() => undefined);
    }
  }
}
