// Where the destination is: the host spec the user gives (--dest-host) and the addresses the
// migration stream goes to (--migrate-uri), both pure.

import { randomInt } from 'node:crypto';
import net from 'node:net';
import { UsageError } from '../errors.js';

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

