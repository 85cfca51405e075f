#!/usr/bin/env bash
# One migdown trial done by hand, with bash and socat: the baseline for migdown's
# "wall time per trial" (see docs/benchmarks.md, "Wall time per trial and memory (issue 2)").
#
# Same steps and the same QEMU argv as src/trial/trial.ts:
#   destination: qemu-system-x86_64 -nodefaults -no-user-config -display none -accel kvm
#                -m 1024M -smp 4 -monitor unix:DIR/dst.monitor,server=on,wait=off
#                -incoming tcp:127.0.0.1:PORT
#   source:      the same without -incoming, monitor DIR/src.monitor
#   wait for both monitors (one persistent socat connection each, greeting read)
#   (src) migrate_set_parameter max-bandwidth 0
#   (src) migrate_set_parameter downtime-limit 10
#   (src) migrate -d tcp:127.0.0.1:PORT
#   (src) info migrate          every 100 ms (after each reply) until a terminal status
#   (dst) info status           every 50 ms until "running" (at most 10 s)
#   quit both, wait for both to exit.
# Not done (migdown does them): the `help` listing migdown reads to pick the command dialect,
# and writing the JSON-lines record.
#
# QEMU is started through `setpriv --pdeathsig KILL` when setpriv exists, as migdown does,
# and every QEMU and socat this script started is killed on any exit (trap).
#
# Usage: bench/baseline.sh            prints "baseline: completed in N ms" on stdout, exit 0
# Env:   QEMU (qemu-system-x86_64), RAM_MB (1024), SMP (4), ACCEL (kvm), POLL_S (0.1),
#        PORT (random free one), VERBOSE=1 (timestamps and replies on stderr)
set -euo pipefail

QEMU=${QEMU:-qemu-system-x86_64}
RAM_MB=${RAM_MB:-1024}
SMP=${SMP:-4}
ACCEL=${ACCEL:-kvm}
POLL_S=${POLL_S:-0.1}
VERBOSE=${VERBOSE:-0}
TIMEOUT_S=${TIMEOUT_S:-120} # the whole trial; a watchdog SIGTERMs the script after that

# Written to fork as little as possible (no $(date), no /bin/sleep in loops): a fork of bash
# costs CPU that the two starting QEMUs want too on a small machine.
now_ms() { local t=${EPOCHREALTIME/./}; NOW_MS=$((t / 1000)); }
now_ms
T0=$NOW_MS
log() { if [[ $VERBOSE == 1 ]]; then now_ms; echo "baseline: +$((NOW_MS - T0)) ms $*" >&2; fi; }
die() { echo "baseline: $*" >&2; exit 1; }

DIR=$(mktemp -d /tmp/migdown-baseline.XXXXXX)
QEMU_PIDS=()
SOCAT_PIDS=()
WATCHDOG_PID=''
# sleep without a fork: a read with a timeout on a FIFO nobody writes to
mkfifo "$DIR/sleep"
exec 7<>"$DIR/sleep"
nap() { read -r -t "$1" -u 7 _ || true; }

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM HUP
  for pid in "${QEMU_PIDS[@]}" "${SOCAT_PIDS[@]}" $WATCHDOG_PID; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${QEMU_PIDS[@]}"; do
    # up to 2 s for a clean exit, then SIGKILL
    for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; nap 0.01; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
# Reads have no -t (bash's read -t costs ~4x per byte): a watchdog bounds the whole trial.
{ exec 7<&- 1>&-; read -r -t "$TIMEOUT_S" -u 0 _ <>"$DIR/sleep" || true; echo "baseline: timed out after $TIMEOUT_S s" >&2; kill -TERM $$ 2>/dev/null; } &
WATCHDOG_PID=$!

# A free loopback port: random, retried while something answers on it.
if [[ -z ${PORT:-} ]]; then
  for ((i = 0; i < 50; i++)); do
    PORT=$((20000 + RANDOM % 40000))
    if ! (exec 9<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  done
fi

SETPRIV=()
for p in /usr/bin/setpriv /bin/setpriv; do
  if [[ -x $p ]]; then SETPRIV=("$p" --pdeathsig KILL --); break; fi
done

# The firmware migdown's --firmware auto picks where the QEMU has it (empty: QEMU's default SeaBIOS).
BIOS=${BIOS-qboot.rom}
COMMON=(-nodefaults -no-user-config -display none -accel "$ACCEL" -m "${RAM_MB}M" -smp "$SMP" ${BIOS:+-bios "$BIOS"})
DST_ARGV=("${COMMON[@]}" -monitor "unix:$DIR/dst.monitor,server=on,wait=off")
SRC_ARGV=("${COMMON[@]}" -monitor "unix:$DIR/src.monitor,server=on,wait=off")

log "starting QEMU (port $PORT)"
"${SETPRIV[@]}" "$QEMU" "${DST_ARGV[@]}" -incoming "tcp:127.0.0.1:$PORT" </dev/null >/dev/null 2>"$DIR/dst.stderr" 7<&- &
DST_PID=$!
QEMU_PIDS+=("$DST_PID")
"${SETPRIV[@]}" "$QEMU" "${SRC_ARGV[@]}" </dev/null >/dev/null 2>"$DIR/src.stderr" 7<&- &
SRC_PID=$!
QEMU_PIDS+=("$SRC_PID")

# Wait until QEMU has created the monitor socket (20 ms retries, like migdown's connect loop).
wait_socket() { # $1 = path, $2 = pid
  local i
  for ((i = 0; i < 1500; i++)); do
    [[ -S $1 ]] && return 0
    kill -0 "$2" 2>/dev/null || die "QEMU exited before creating $1: $(tail -n 3 "$DIR"/*.stderr)"
    nap 0.02
  done
  die "no monitor socket at $1 after 30 s"
}

# One persistent socat connection per monitor: commands go in on fd W, replies come out on fd R.
#   connect NAME WFD RFD
connect() {
  local name=$1 wfd=$2 rfd=$3
  mkfifo "$DIR/$name.in" "$DIR/$name.out"
  socat STDIO "UNIX-CONNECT:$DIR/$name.monitor" <"$DIR/$name.in" >"$DIR/$name.out" 2>>"$DIR/$name.socat" 3>&- 5>&- 7<&- &
  SOCAT_PIDS+=("$!")
  eval "exec $wfd>\"\$DIR/\$name.in\" $rfd<\"\$DIR/\$name.out\""
}

# Read from fd $1 until a whole reply: the prompt "(qemu) " at the end (after a CR LF for a
# command reply, as src/qemu/hmp-framing.ts decides). Sets REPLY_TEXT.
hmp_read() { # $1 = fd, $2 = "greeting" | "reply"
  local fd=$1 chunk
  REPLY_TEXT=''
  while IFS= read -r -d ' ' -u "$fd" chunk; do
    REPLY_TEXT+="$chunk "
    if [[ $REPLY_TEXT == *'(qemu) ' ]] && { [[ $2 == greeting ]] || [[ $REPLY_TEXT == *$'\r\n'* ]]; }; then
      return 0
    fi
  done
  return 1
}

hmp() { # $1 = "src" | "dst", $2 = command line; reply in REPLY_TEXT
  local wfd rfd
  if [[ $1 == src ]]; then wfd=3 rfd=4; else wfd=5 rfd=6; fi
  printf '%s\n' "$2" >&"$wfd"
  hmp_read "$rfd" reply || die "($1) no reply to \"$2\""
  log "($1) $2"
  if [[ $VERBOSE == 1 ]]; then printf '%s\n' "${REPLY_TEXT//$'\r'/}" >&2; fi
  if [[ $REPLY_TEXT == *$'\n'Error:* || $REPLY_TEXT == *'unknown command'* ]]; then
    die "($1) $2: ${REPLY_TEXT//$'\r'/}"
  fi
}

wait_socket "$DIR/dst.monitor" "$DST_PID"
wait_socket "$DIR/src.monitor" "$SRC_PID"
connect dst 5 6
connect src 3 4
hmp_read 6 greeting || die "destination monitor did not greet"
hmp_read 4 greeting || die "source monitor did not greet"
log "monitors up"

hmp src 'migrate_set_parameter max-bandwidth 0'
hmp src 'migrate_set_parameter downtime-limit 10'
hmp src "migrate -d tcp:127.0.0.1:$PORT"

status=''
while :; do
  hmp src 'info migrate'
  case $REPLY_TEXT in
    *'Migration status: completed'*) status=completed; break ;;
    *'Migration status: failed'*) die "migration failed: ${REPLY_TEXT//$'\r'/}" ;;
    *'Migration status: cancelled'*) die "migration cancelled" ;;
  esac
  nap "$POLL_S"
done
log "migration completed"

# The destination resumes a little after the source reports completion.
running=0
for ((i = 0; i < 200; i++)); do
  hmp dst 'info status'
  if [[ $REPLY_TEXT == *'VM status: running'* ]]; then running=1; break; fi
  nap 0.05
done
((running)) || die "destination did not resume: ${REPLY_TEXT//$'\r'/}"

# quit: QEMU closes the monitor instead of answering; then wait for both to exit.
printf 'quit\n' >&3
printf 'quit\n' >&5
wait "$SRC_PID" || die "source QEMU exited with $?"
wait "$DST_PID" || die "destination QEMU exited with $?"
QEMU_PIDS=()
exec 3>&- 4<&- 5>&- 6<&-
wait "${SOCAT_PIDS[@]}" 2>/dev/null || true
SOCAT_PIDS=()
log "both QEMUs exited"
now_ms
echo "baseline: completed in $((NOW_MS - T0)) ms"
