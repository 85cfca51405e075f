// The destination QEMU on another host, started and driven through the system `ssh` client.
//
// One SSH session per remote QEMU carries everything:
//   local ssh stdin  -> remote wrapper: line protocol, one line per message
//                         "h"        heartbeat (sent every second)
//                         "m<text>"  a monitor command line, written to QEMU's stdin
//                         "t" / "k"  SIGTERM / SIGKILL the remote QEMU
//   remote QEMU stdout -> local ssh stdout: QEMU's own `-monitor stdio` bytes, unchanged
//   remote stderr      -> local ssh stderr: QEMU's and the wrapper's messages
// Locally, a unix socket server at the trial's monitor path bridges one HmpClient to that
// session, so HmpClient talks to the remote monitor exactly as to a local one.
//
// Why a wrapper: QEMU 7.2 with `-monitor stdio` does NOT exit when its stdin reaches EOF
// (verified), and sshd notices a cut link only when TCP gives up (minutes) unless its own
// ClientAliveInterval says otherwise, which the client cannot set. So the remote side (bash,
// no other tool) runs QEMU in the background and stops it (SIGTERM, then SIGKILL after 3 s):
//   - when the session's stdin reaches EOF: the local ssh exited or was killed, sshd died,
//     or the connection was closed;
//   - when no line arrived for `heartbeatTimeoutSec` seconds: the link is cut or migdown
//     hangs;
//   - when the wrapper gets SIGTERM/SIGHUP/SIGINT.
// QEMU runs under `setpriv --pdeathsig KILL` where the remote has util-linux, so even a
// SIGKILLed wrapper takes its QEMU with it. The local ssh runs under the same PDEATHSIG, so
// a SIGKILLed migdown closes the connection, which stops the remote QEMU (EOF above).

import { execa, type ResultPromise } from 'execa';
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { unlink } from 'node:fs/promises';
import net from 'node:net';
import { constants as osConstants } from 'node:os';
import { UsageError } from '../errors.js';
import { describeExit, withDeathSignal, type ExitInfo, type QemuProcess } from '../qemu/process.js';

// ---------------------------------------------------------------------------------------
// Host specs and ssh argv (pure)

export interface SshTarget {
  /** as given by the user: "root@10.0.0.2:2222" */
  spec: string;
  user?: string;
  /** bare host name or address (IPv6 without brackets) */
  host: string;
  port?: number;
  /**
   * The address TCP connections (the port probe, the migration) go to: what `ssh -G` says the
   * host name means (an ssh config alias is no DNS name), resolved here. Absent: `host`.
   */
  address?: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(host: string): boolean {
  const m = IPV4.exec(host);
  return !!m && m.slice(1).every((o) => Number(o) <= 255);
}

export function isIpv6(host: string): boolean {
  return net.isIPv6(host);
}

/**
 * Parse `[user@]HOST[:port]`. IPv6 addresses go in brackets when a port follows
 * (`root@[fe80::1%eth0]:2222`); an unbracketed address with several colons is read as an
 * IPv6 address without a port.
 */
export function parseHostSpec(spec: string, option = '--dest-host'): SshTarget {
  const fail = (why: string): never => {
    throw new UsageError(`${option} ${JSON.stringify(spec)}: ${why} (expected [user@]HOST[:port])`);
  };
  const s = spec.trim();
  if (!s) fail('empty');
  if (/\s/.test(s)) fail('contains white space');
  let rest = s;
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    if (!user) fail('empty user name before @');
    if (user.startsWith('-')) fail('user name must not start with -');
    if (/[@:/[\]]/.test(user)) fail(`bad user name ${JSON.stringify(user)}`);
  }
  let host: string;
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) fail('missing ] after IPv6 address');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) fail(`unexpected ${JSON.stringify(after)} after ]`);
      portText = after.slice(1);
    }
    if (!isIpv6(host.replace(/%.*$/, ''))) fail(`${host} in brackets is not an IPv6 address`);
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    host = rest; // bare IPv6 address
    if (!isIpv6(host.replace(/%.*$/, ''))) fail('put an IPv6 address in brackets: [ADDR]:PORT');
  } else {
    const colon = rest.indexOf(':');
    host = colon >= 0 ? rest.slice(0, colon) : rest;
    portText = colon >= 0 ? rest.slice(colon + 1) : undefined;
  }
  if (!host) fail('empty host');
  if (host.startsWith('-')) fail('host must not start with -');
  if (!/^[A-Za-z0-9._%:-]+$/.test(host)) fail(`bad host ${JSON.stringify(host)}`);
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) fail(`bad SSH port ${JSON.stringify(portText)}`);
    port = Number(portText);
  }
  return { spec: s, host, ...(user !== undefined && { user }), ...(port !== undefined && { port }) };
}

/** "user@host:port" for messages, with IPv6 in brackets when a port follows. */
export function formatTarget(t: SshTarget): string {
  const host = t.port && t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.user ? `${t.user}@` : ''}${host}${t.port ? `:${t.port}` : ''}`;
}

export interface SshOptions {
  /** `-i KEY` (tests); otherwise the user's agent / default keys */
  identityFile?: string;
  /** `-o UserKnownHostsFile=...` (tests) */
  knownHostsFile?: string;
  /** `-F FILE` (tests use /dev/null so the user's ~/.ssh/config cannot interfere) */
  configFile?: string;
  /** default 10 */
  connectTimeoutSec?: number;
  /** default accept-new */
  strictHostKeyChecking?: 'accept-new' | 'yes' | 'no';
  /** more `-o NAME=VALUE` */
  extraOptions?: string[];
  /**
   * Command prefix for every local process that touches the network (ssh, the port probe):
   * e.g. ['ip', 'netns', 'exec', 'mdsrc'] to act from another network namespace.
   */
  wrapper?: string[];
  /** the ssh client; default "ssh" */
  sshBinary?: string;
}

/** The ssh options migdown always uses. */
export function sshOptionArgs(opts: SshOptions = {}): string[] {
  const o = (v: string) => ['-o', v];
  return [
    ...(opts.configFile ? ['-F', opts.configFile] : []),
    // ssh keeps the FIRST value it is given for an option: the user's go first so that
    // `--ssh-option StrictHostKeyChecking=yes` wins over migdown's accept-new default.
    ...(opts.extraOptions ?? []).flatMap((x) => o(x)),
    ...o('BatchMode=yes'),
    ...o(`ConnectTimeout=${opts.connectTimeoutSec ?? 10}`),
    ...o('ServerAliveInterval=2'),
    ...o('ServerAliveCountMax=3'),
    ...o(`StrictHostKeyChecking=${opts.strictHostKeyChecking ?? 'accept-new'}`),
    // a shared master connection would outlive this session and hide a dropped link
    ...o('ControlMaster=no'),
    ...o('ControlPath=none'),
    // INFO, so that "Timeout, server X not responding." explains a dropped link; the one
    // chatty INFO line ("Warning: Permanently added ...") is filtered out by sshNoise()
    ...o('LogLevel=INFO'),
    ...(opts.knownHostsFile ? o(`UserKnownHostsFile=${opts.knownHostsFile}`) : []),
    ...(opts.identityFile ? ['-i', opts.identityFile, ...o('IdentitiesOnly=yes')] : []),
  ];
}

/**
 * The whole local command line for one SSH session: [file, ...args]. `remoteCommand` is one
 * string, parsed by the remote user's login shell (build it with shQuote / remoteCommandLine).
 */
export function sshCommand(target: SshTarget, opts: SshOptions, remoteCommand: string, extra: string[] = []): string[] {
  return [
    ...(opts.wrapper ?? []),
    opts.sshBinary ?? 'ssh',
    ...sshOptionArgs(opts),
    '-T', // no tty: stdin/stdout are the byte streams of our protocol
    '-e',
    'none',
    ...extra,
    ...(target.port ? ['-p', String(target.port)] : []),
    ...(target.user ? ['-l', target.user] : []),
    target.host,
    '--',
    remoteCommand,
  ];
}

/** What `ssh -G` says about a target: the real host name, port and user after ~/.ssh/config. */
export interface SshResolved {
  hostname: string;
  port?: number;
  user?: string;
}

/** Parse `ssh -G` output (pure): one `keyword value` line each, keywords in lower case. */
export function parseSshG(stdout: string): SshResolved | undefined {
  const kv = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^([a-z0-9]+) (.*)$/.exec(line.trim());
    if (m && !kv.has(m[1]!)) kv.set(m[1]!, m[2]!);
  }
  const hostname = kv.get('hostname');
  if (!hostname || !/^[A-Za-z0-9._%:-]+$/.test(hostname) || hostname.startsWith('-')) return undefined;
  const port = Number(kv.get('port'));
  const user = kv.get('user');
  return {
    hostname,
    ...(Number.isInteger(port) && port >= 1 && port <= 65535 && { port }),
    ...(user && { user }),
  };
}

/**
 * Ask the local ssh client what `target` means (`ssh -G`: evaluates the config, connects
 * nowhere). An alias from ~/.ssh/config (`Host mgd-dst` / `HostName 10.0.0.2`) is not a DNS
 * name: the port probe and the migration must go to the HostName ssh would use.
 */
export async function resolveSshTarget(target: SshTarget, opts: SshOptions = {}): Promise<SshResolved> {
  const [file, ...args] = sshCommand(target, opts, '', ['-G']).slice(0, -2); // no `-- command`
  const r = await execa(file!, args, { reject: false, stdin: 'ignore', timeout: 10_000 });
  const resolved = r.exitCode === 0 ? parseSshG(String(r.stdout)) : undefined;
  if (!resolved) {
    const why = lastLine(String(r.stderr ?? '')) || (r.exitCode === undefined ? `cannot run ${file} (install openssh-client)` : `exit ${r.exitCode}`);
    throw new UsageError(`--dest-host ${formatTarget(target)}: ssh -G cannot resolve it: ${why}`);
  }
  return resolved;
}

/**
 * The IP address the source connects to for `target`: ssh -G's HostName, resolved by this
 * host's resolver when it is a name (the destination then binds exactly that address).
 */
export async function resolveTargetAddress(target: SshTarget, ssh: SshOptions): Promise<string> {
  const { hostname } = await resolveSshTarget(target, ssh);
  if (isIpv4(hostname) || isIpv6(hostname.replace(/%.*$/, ''))) return hostname;
  try {
    return (await lookup(hostname)).address;
  } catch (err) {
    throw new UsageError(`--dest-host ${formatTarget(target)}: cannot resolve ${hostname}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Quote one word for a POSIX shell. */
export function shQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function remoteCommandLine(argv: string[]): string {
  return argv.map(shQuote).join(' ');
}

// ---------------------------------------------------------------------------------------
// Migration addresses (pure)

export interface MigrationEndpoints {
  /** the destination's `-incoming` value */
  incoming: string;
  /** what the source's `migrate -d` is given */
  migrate: string;
  /** where the source connects (for the reachability probe) */
  connectHost: string;
  port: number;
}

function uriHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Where to migrate to. By default the SSH host itself (its resolved `address`); `--migrate-uri
 * tcp:HOST:PORT` overrides (a dedicated migration network). The destination listens only on
 * that address, never on every interface. Port 0: the destination's kernel picks a free port
 * for each trial, which the trial reads back from the destination (listeningUri).
 */
export function migrationEndpoints(target: SshTarget, port: number, migrateUri?: string): MigrationEndpoints {
  let host = target.address ?? target.host;
  if (migrateUri !== undefined) {
    const m = /^tcp:(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(migrateUri);
    if (!m) throw new UsageError(`--migrate-uri ${JSON.stringify(migrateUri)}: expected tcp:HOST:PORT (IPv6 in brackets)`);
    host = (m[1] ?? m[2])!;
    port = Number(m[3]);
    if (port < 1 || port > 65535) throw new UsageError(`--migrate-uri ${JSON.stringify(migrateUri)}: bad port ${port}`);
    if (!/^[A-Za-z0-9._%:-]+$/.test(host)) throw new UsageError(`--migrate-uri ${JSON.stringify(migrateUri)}: bad host ${JSON.stringify(host)}`);
  }
  return {
    incoming: `tcp:${uriHost(host)}:${port}`,
    migrate: `tcp:${uriHost(host)}:${port}`,
    connectHost: host,
    port,
  };
}

/**
 * The `tcp:HOST:PORT` a destination listening on `-incoming tcp:HOST:0` actually got, from its
 * `info migrate` ("socket address: [" up to 10.0, "Sockets: [" from 10.1). Pure; undefined
 * when the reply names no TCP socket on that host.
 */
export function listeningUri(infoMigrate: string, endpoints: MigrationEndpoints): string | undefined {
  // QEMU prints IPv6 hosts without brackets (tcp:fd00::2:4444): the port is after the last colon.
  for (const line of infoMigrate.split('\n')) {
    const m = /^\s*tcp:([^\s]+):(\d{1,5})\s*$/.exec(line);
    if (!m || m[1]!.replace(/^\[(.*)\]$/, '$1') !== endpoints.connectHost) continue;
    const port = Number(m[2]);
    if (port > 0 && port <= 65535) return `tcp:${uriHost(endpoints.connectHost)}:${port}`;
  }
  return undefined;
}

/** A port for the preflight probe when none is given: chosen by a CSPRNG, above the usual services. */
export function randomMigrationPort(): number {
  return randomInt(49152, 61000);
}

/**
 * The destination argv for the remote side: the local `-monitor unix:<monitorPath>,...`
 * (as qemuArgv() writes it) becomes `-monitor stdio`, which the SSH session carries.
 */
export function remoteQemuArgv(argv: string[], monitorPath?: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (a === '-monitor' && next !== undefined && monitorPath && (next === `unix:${monitorPath}` || next.startsWith(`unix:${monitorPath},`))) {
      i++;
      continue;
    }
    if (a === '-nographic' || a === '-daemonize') throw new UsageError(`${a} cannot be used on a remote destination (its stdio carries the monitor)`);
    if ((a === '-serial' || a === '-monitor' || a === '-qmp' || a === '-parallel') && next === 'stdio') {
      throw new UsageError(`${a} stdio cannot be used on a remote destination (its stdio carries the monitor)`);
    }
    if (a === '-chardev' && next !== undefined && /^stdio(,|$)/.test(next)) {
      throw new UsageError('-chardev stdio cannot be used on a remote destination (its stdio carries the monitor)');
    }
    out.push(a);
  }
  if (monitorPath !== undefined) out.push('-monitor', 'stdio');
  return out;
}

/**
 * The remote wrapper (bash). $1: heartbeat timeout in seconds; $2...: QEMU's argv.
 * Exit status: QEMU's (128+N when killed by signal N); 125 when it could not set up.
 */
export const REMOTE_WRAPPER = String.raw`trap '' PIPE
to=$1; shift
say() { printf 'migdown-remote: %s\n' "$*" >&2; }
d=$(mktemp -d) || exit 125
mkfifo "$d/m" && exec 3<>"$d/m" && exec 4<"$d/m" 5>"$d/m" && exec 3<&-
rc=$?; rm -rf "$d"; [ $rc = 0 ] || { say "cannot create the monitor pipe"; exit 125; }
if command -v setpriv >/dev/null 2>&1; then setpriv --pdeathsig KILL -- "$@" <&4 4<&- 5>&- &
else "$@" <&4 4<&- 5>&- &
fi
q=$!
exec 4<&- 6<&0
stopq() {
  say "$1; stopping QEMU"
  kill -TERM $q 2>/dev/null
  i=0; while kill -0 $q 2>/dev/null && [ $i -lt 30 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL $q 2>/dev/null
}
{
  while :; do
    if IFS= read -r -t "$to" line; then
      case $line in
        m*) printf '%s\n' "${"$"}{line#m}" >&5 ;;
        t) kill -TERM $q 2>/dev/null ;;
        k) kill -KILL $q 2>/dev/null ;;
      esac
    elif [ $? -gt 128 ]; then stopq "no word from migdown for $to s (connection lost?)"; exit 0
    else stopq "migdown closed the connection"; exit 0
    fi
  done
} <&6 6<&- &
r=$!
exec 6<&- 5>&- 0</dev/null
trap 'stopq "got SIGTERM"' TERM
trap 'stopq "got SIGHUP"' HUP
trap 'stopq "got SIGINT"' INT
while :; do
  wait $q; rc=$?
  kill -0 $q 2>/dev/null || break
done
kill $r 2>/dev/null
exit $rc
`;

/** The remote command line (for the login shell) that runs QEMU under the wrapper. */
export function remoteWrapperCommand(qemuPath: string, argv: string[], heartbeatTimeoutSec: number): string {
  return remoteCommandLine(['exec', 'bash', '-c', REMOTE_WRAPPER, 'migdown-remote', String(heartbeatTimeoutSec), qemuPath, ...argv]);
}

// ---------------------------------------------------------------------------------------
// One-shot remote commands

export interface RemoteResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** ssh itself failed (exit 255: no connection, authentication, host key) */
  sshFailed: boolean;
  timedOut: boolean;
}

/** ssh's stderr without lines that explain nothing ("Warning: Permanently added ..."). */
export function withoutSshNoise(text: string): string {
  return text.replace(/^Warning: Permanently added .*(\r?\n|$)/gm, '');
}

/** The last meaningful line of ssh's stderr, for one-line messages. */
export function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ''
  );
}

/** Run one remote shell command line and collect its output. */
export async function runRemote(
  target: SshTarget,
  command: string,
  opts: SshOptions & { timeoutMs?: number; input?: string } = {},
): Promise<RemoteResult> {
  const [file, args] = withDeathSignal(sshCommand(target, opts, command));
  const r = await execa(file, args, {
    reject: false,
    timeout: opts.timeoutMs ?? ((opts.connectTimeoutSec ?? 10) + 20) * 1000,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
    stripFinalNewline: false,
  });
  const exitCode = typeof r.exitCode === 'number' ? r.exitCode : undefined;
  return {
    exitCode,
    stdout: String(r.stdout ?? ''),
    stderr: withoutSshNoise(String(r.stderr ?? '')),
    sshFailed: exitCode === 255,
    timedOut: !!r.timedOut,
  };
}

// ---------------------------------------------------------------------------------------
// The remote QEMU

export interface RemoteQemu extends QemuProcess {
  target: SshTarget;
  /** the local unix socket an HmpClient connects to (undefined: no monitor) */
  monitorPath?: string;
  /** QEMU's argv as run remotely (after remoteQemuArgv) */
  remoteArgv: string[];
  /** the local ssh command line */
  sshArgv: string[];
}

export interface StartRemoteOptions extends SshOptions {
  role?: string;
  /**
   * Local unix socket path for the monitor. A `-monitor unix:<monitorPath>,...` pair in
   * argv is replaced by `-monitor stdio`; without monitorPath, QEMU gets no monitor.
   */
  monitorPath?: string;
  /** the remote side stops QEMU after this long without a line from us; default 6 */
  heartbeatTimeoutSec?: number;
  /** default 1000 */
  heartbeatIntervalMs?: number;
  /** more ssh arguments for this session, e.g. `-R remote.sock:local.sock` for the guest's serial port */
  extraSshArgs?: string[];
}

const PROMPT = '(qemu) ';
const live = new Set<RemoteQemu>();

function exitReason(target: SshTarget, code: number | null, signal: string | null): string {
  if (signal) return `(ssh to ${formatTarget(target)}) killed by ${signal}`;
  if (code === 255) return `lost: ssh to ${formatTarget(target)} failed or its connection dropped (ssh exit 255)`;
  if (code !== null && code > 128 && code < 160) {
    const name = Object.entries(SIGNALS).find(([, n]) => n === code - 128)?.[0];
    return `killed by ${name ?? `signal ${code - 128}`}`;
  }
  if (code === 125) return 'could not start: the remote wrapper failed (see its message)';
  if (code === 127) return 'could not start: command not found on the destination';
  return describeExit(code, null);
}

const SIGNALS = osConstants.signals as unknown as Record<string, number>;

/**
 * Start QEMU on `target` through SSH. Resolves once the local side is set up (ssh started,
 * monitor socket listening); the remote QEMU may still be starting: connect an HmpClient to
 * `monitorPath` with `processExited: handle.exited`, exactly as for a local QEMU.
 */
export async function startRemoteQemu(target: SshTarget, qemuPath: string, argv: string[], opts: StartRemoteOptions = {}): Promise<RemoteQemu> {
  const remoteArgv = remoteQemuArgv(argv, opts.monitorPath);
  const hbTimeout = opts.heartbeatTimeoutSec ?? 6;
  const sshArgv = sshCommand(target, opts, remoteWrapperCommand(qemuPath, remoteArgv, hbTimeout), opts.extraSshArgs ?? []);
  const [file, args] = withDeathSignal(sshArgv);

  let server: net.Server | undefined;
  if (opts.monitorPath) {
    await unlink(opts.monitorPath).catch(() => undefined);
    server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(opts.monitorPath, () => resolve());
    });
  }

  let stderrText = '';
  const child: ResultPromise = execa(file, args, {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    // own process group, as for local QEMU: Ctrl-C reaches migdown only
    detached: true,
  });
  child.stdin?.on('error', () => undefined);
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrText = (stderrText + chunk).slice(-16_384);
  });

  // -- the monitor bridge
  let client: net.Socket | undefined;
  let greeting = '';
  let greetingDone = false;
  let stdinOpen = true;
  const sendLine = (line: string) => {
    if (stdinOpen && child.stdin && !child.stdin.destroyed) child.stdin.write(`${line}\n`);
  };
  // QEMU prints a stdio monitor's greeting while it is still starting, before -incoming
  // listens (a unix-socket monitor only answers from the main loop). So the bridge sends one
  // command of its own and shows the greeting to clients only once that is answered: from then
  // on QEMU is in its main loop, exactly where a local monitor connection would find it.
  let raw = '';
  let probeSent = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    if (!greetingDone) {
      raw += chunk.toString('latin1');
      const first = raw.indexOf(PROMPT);
      if (first < 0) return;
      if (!probeSent) {
        greeting = raw.slice(0, first + PROMPT.length);
        probeSent = true;
        sendLine('minfo version');
      }
      const reply = raw.slice(first + PROMPT.length);
      if (!(reply.includes('\r\n') && reply.endsWith(PROMPT))) return;
      greetingDone = true;
      raw = '';
      client?.write(Buffer.from(greeting, 'latin1'));
      return;
    }
    client?.write(chunk);
  });
  child.stdout?.on('error', () => undefined);
  server?.on('connection', (socket) => {
    // one client at a time: a new connection replaces the old one, as a fresh monitor would
    client?.destroy();
    client = socket;
    let pending = '';
    socket.on('data', (data: Buffer) => {
      pending += data.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        sendLine(`m${line}`);
      }
    });
    const gone = () => {
      if (client === socket) client = undefined;
    };
    socket.on('close', gone);
    socket.on('error', gone);
    // every connection starts with the greeting, as a unix-socket monitor's does
    if (greetingDone) socket.write(Buffer.from(greeting, 'latin1'));
  });

  const heartbeat = setInterval(() => sendLine('h'), opts.heartbeatIntervalMs ?? 1000);
  heartbeat.unref();
  let killTimer: NodeJS.Timeout | undefined;

  const proc: RemoteQemu = {
    role: opts.role ?? 'destination',
    pid: child.pid,
    argv: [qemuPath, ...remoteArgv],
    remoteArgv,
    sshArgv,
    target,
    ...(opts.monitorPath !== undefined && { monitorPath: opts.monitorPath }),
    exited: undefined as unknown as Promise<ExitInfo>,
    stderr: () => withoutSshNoise(stderrText),
    kill: (signal) => {
      if (proc.exitInfo) return;
      if (signal === 'SIGKILL') {
        // the remote KILLs QEMU and exits; if the session cannot say so within 2 s, cut it:
        // the remote side then stops QEMU on EOF or, with the link down, on the heartbeat
        sendLine('k');
        stdinOpen = false;
        child.stdin?.end();
        killTimer ??= setTimeout(() => child.kill('SIGKILL'), 2000);
        killTimer.unref();
      } else if (stdinOpen) {
        sendLine('t');
      } else {
        child.kill('SIGTERM');
      }
    },
  };
  const finish = (info: ExitInfo): ExitInfo => {
    proc.exitInfo = info;
    clearInterval(heartbeat);
    if (killTimer) clearTimeout(killTimer);
    stdinOpen = false;
    client?.destroy();
    if (server) {
      server.close();
      unlink(opts.monitorPath!).catch(() => undefined);
    }
    live.delete(proc);
    return info;
  };
  proc.exited = child.then(
    (r) => {
      const code = typeof r.exitCode === 'number' ? r.exitCode : null;
      const sig = r.signal ?? null;
      const reason = r.failed && code === null && !sig ? `could not start ssh: ${r.shortMessage}` : exitReason(target, code, sig);
      return finish({ code, signal: sig, reason });
    },
    (err: Error) => finish({ code: null, signal: null, reason: `could not start ssh: ${err.message}` }),
  );
  live.add(proc);
  return proc;
}

/** Remote QEMUs still running (their local ssh sessions). */
export function liveRemoteCount(): number {
  return live.size;
}

/**
 * Stop every remote QEMU still running: SIGTERM through the session, then SIGKILL; resolves
 * when every session has ended. For the boundary in cli.ts, next to stopAllQemu().
 */
export async function stopAllRemoteQemu(graceMs = 3000): Promise<void> {
  await Promise.all(
    [...live].map(async (p) => {
      p.kill('SIGTERM');
      const t = new Promise((r) => setTimeout(r, graceMs).unref());
      await Promise.race([p.exited, t]);
      if (!p.exitInfo) p.kill('SIGKILL');
      await p.exited;
    }),
  );
}

/**
 * Last resort for a synchronous 'exit' handler: SIGKILL the local ssh clients. Their
 * connections close, and each remote wrapper stops its QEMU on the EOF.
 */
export function killAllRemoteQemuSync(): void {
  for (const p of live) {
    try {
      if (p.pid) process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
