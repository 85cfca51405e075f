// The local `ssh` client: its options and command line, what `ssh -G` says a target means,
// shell quoting for the remote login shell, and one-shot remote commands.

import { execa } from 'execa';
import { lookup } from 'node:dns/promises';
import { UsageError } from '../errors.js';
import { withDeathSignal } from '../qemu/process.js';
import { formatTarget, isIpv4, isIpv6, type SshTarget } from './host-spec.js';

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
