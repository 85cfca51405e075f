// What runs on the destination host: QEMU's argv as the remote side gets it, and the bash
// wrapper that runs QEMU there (see remote-qemu.ts for the local end of the session).
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

import { UsageError } from '../errors.js';
import { remoteCommandLine } from './ssh.js';

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
# util-linux before 2.33 has setpriv without --pdeathsig: test the option, not the binary.
if setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then setpriv --pdeathsig KILL -- "$@" <&4 4<&- 5>&- &
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
