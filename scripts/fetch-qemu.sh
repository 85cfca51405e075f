#!/usr/bin/env bash
# fetch-qemu.sh — get another Debian suite's qemu-system-x86 into a private
# directory, without installing anything system-wide, and write a wrapper
# DIR/qemu-system-x86_64 that runs it with that suite's firmware.
#
# Usage: scripts/fetch-qemu.sh [--keep-debs] SUITE DIR
#   SUITE  a Debian suite/codename: trixie, bookworm-backports, bullseye,
#          sid, forky, ... (buster/stretch/jessie live on archive.debian.org)
#   DIR    target directory (created; must be empty or an earlier output)
#
# Environment:
#   MIRROR           Debian archive URL (default http://deb.debian.org/debian,
#                    or http://archive.debian.org/debian for jessie/stretch/buster)
#   SECURITY_MIRROR  security archive URL (default: deb.debian.org/debian-security,
#                    archive.debian.org/debian-security for archived suites)
#   KEYRINGS         comma-separated keyring files for signed-by
#                    (default: debian-archive-keyring.gpg, plus
#                    debian-archive-removed-keys.gpg for archived suites)
#   NO_SECURITY=1    do not add the suite's security updates
#
# How it works: a throw-away apt configuration under DIR/.apt (own
# sources.list, lists, cache, empty dpkg status) is used for `apt-get update`
# and `apt-get download`; every package is unpacked with `dpkg-deb -x` into
# DIR/root.  Besides qemu-system-x86 and its firmware/data packages
# (qemu-system-common, qemu-system-data, seabios, ipxe-qemu), each run-time
# dependency that the host's installed packages do not satisfy (missing, or
# older than the version the suite asks for) is unpacked too, recursively.
# If that includes libc6 (a suite newer than the host), the wrapper runs the
# binary through the unpacked dynamic loader with --library-path; otherwise
# it sets LD_LIBRARY_PATH.  Nothing outside DIR is written.
# The set of unpacked libraries depends on what the host has installed at the
# time: if host libraries are removed later, run the script again.
set -euo pipefail

die() { echo "fetch-qemu: $*" >&2; exit 1; }
log() { echo "fetch-qemu: $*" >&2; }

KEEP_DEBS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keep-debs) KEEP_DEBS=1; shift ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || die "usage: $0 [--keep-debs] SUITE DIR"
SUITE=$1
DIR=$2

for t in apt-get apt-cache dpkg-deb dpkg-query dpkg realpath; do
  command -v "$t" >/dev/null || die "needs $t"
done
[ "$(dpkg --print-architecture)" = amd64 ] || die "only amd64 hosts are supported"

# ---------------------------------------------------------------- suites
BASE=${SUITE%%-*}            # bookworm-backports -> bookworm
case "$BASE" in
  jessie|stretch|buster) ARCHIVED=1 ;;
  *) ARCHIVED=0 ;;
esac
if [ "$ARCHIVED" = 1 ]; then
  MIRROR=${MIRROR:-http://archive.debian.org/debian}
  SECURITY_MIRROR=${SECURITY_MIRROR:-http://archive.debian.org/debian-security}
  KEYRINGS=${KEYRINGS:-/usr/share/keyrings/debian-archive-keyring.gpg,/usr/share/keyrings/debian-archive-removed-keys.gpg}
  SEC_SUITE="$BASE/updates"
else
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
  KEYRINGS=${KEYRINGS:-/usr/share/keyrings/debian-archive-keyring.gpg}
  SEC_SUITE="$BASE-security"
fi
case "$BASE" in sid|unstable|experimental|rc-buggy) NO_SECURITY=1 ;; esac

# ---------------------------------------------------------------- target dir
mkdir -p "$DIR"
DIR=$(realpath "$DIR")
if [ -n "$(ls -A "$DIR")" ] && [ ! -e "$DIR/.fetch-qemu" ]; then
  die "$DIR is not empty and was not made by this script"
fi
rm -rf "$DIR/root" "$DIR/.apt" "$DIR/loader" "$DIR/qemu-system-x86_64" "$DIR/MANIFEST"
touch "$DIR/.fetch-qemu"
ROOT="$DIR/root"
A="$DIR/.apt"
mkdir -p "$ROOT" "$A/etc/sources.list.d" "$A/etc/preferences.d" \
         "$A/etc/trusted.gpg.d" "$A/lists/partial" "$A/cache/archives/partial" \
         "$A/debs"
: > "$A/status"
# drop the throw-away apt state on failure too (unless asked to keep it)
# shellcheck disable=SC2154  # rc is assigned inside the trap
trap 'rc=$?; [ $rc -ne 0 ] && [ "$KEEP_DEBS" = 0 ] && rm -rf "$A"; exit $rc' EXIT

{
  echo "deb [signed-by=$KEYRINGS] $MIRROR $SUITE main"
  [ "$SUITE" != "$BASE" ] && echo "deb [signed-by=$KEYRINGS] $MIRROR $BASE main"
  [ "${NO_SECURITY:-0}" = 1 ] || echo "deb [signed-by=$KEYRINGS] $SECURITY_MIRROR $SEC_SUITE main"
} > "$A/etc/sources.list"
if [ "$SUITE" != "$BASE" ]; then
  # backports are NotAutomatic (priority 100); prefer them over the base suite
  printf 'Package: *\nPin: release n=%s\nPin-Priority: 990\n' "$SUITE" \
    > "$A/etc/preferences.d/suite.pref"
fi

APTOPTS=(
  -o "Dir::Etc=$A/etc"
  -o "Dir::Etc::SourceList=$A/etc/sources.list"
  -o "Dir::Etc::SourceParts=$A/etc/sources.list.d"
  -o "Dir::Etc::Preferences=$A/etc/preferences"
  -o "Dir::Etc::PreferencesParts=$A/etc/preferences.d"
  -o "Dir::Etc::Trusted=$A/etc/trusted.gpg"
  -o "Dir::Etc::TrustedParts=$A/etc/trusted.gpg.d"
  -o "Dir::State=$A"
  -o "Dir::State::Lists=$A/lists"
  -o "Dir::State::status=$A/status"
  -o "Dir::Cache=$A/cache"
  -o "Dir::Cache::Archives=$A/cache/archives"
  -o "APT::Architecture=amd64"
  -o "APT::Architectures::=amd64"
  -o "Acquire::Languages=none"
  -o "Acquire::Check-Valid-Until=false"
  -o "APT::Sandbox::User=root"
  -o "Debug::NoLocking=true"
)
apt_get()   { apt-get -q "${APTOPTS[@]}" "$@"; }
apt_cache() { apt-cache "${APTOPTS[@]}" "$@"; }

log "apt-get update for $SUITE from $MIRROR"
if ! apt_get update >"$A/update.log" 2>&1; then
  # a missing security suite is not fatal; the main suite is checked below
  grep -E '^(E|W|Err):' "$A/update.log" >&2 || true
fi
got=0
for f in "$A/lists/"*"_dists_${SUITE}_main_binary-amd64_Packages"*; do [ -e "$f" ] && got=1; done
if [ "$got" = 0 ]; then
  cat "$A/update.log" >&2
  die "suite $SUITE could not be fetched from $MIRROR"
fi

# ---------------------------------------------------------------- resolving
candidate() {  # pkg -> candidate version or empty
  apt_cache policy "$1" 2>/dev/null | awk '/^  Candidate:/ {print $2; exit}' | grep -v '^(none)$' || true
}
depends_of() {  # pkg ver -> one dependency group per line (alternatives '|')
  apt_cache show "$1=$2" 2>/dev/null | awk '
    /^$/ {exit}
    /^(Depends|Pre-Depends):/ { sub(/^[^:]*: */, ""); n = split($0, a, /, */); for (i = 1; i <= n; i++) print a[i] }'
}
host_satisfies() {  # "name (op ver)" or "name" -> 0 if an installed host package satisfies it
  local spec=$1 name op ver inst
  name=${spec%% *}; name=${name%%:*}
  inst=$(dpkg-query -W -f='${db:Status-Status} ${Version}\n' "$name" 2>/dev/null | awk '$1 == "installed" {print $2; exit}')
  [ -n "$inst" ] || return 1
  case "$spec" in
    *"("*")"*)
      op=$(sed -E 's/.*\(([<>=]+) *([^)]*)\).*/\1/' <<<"$spec")
      ver=$(sed -E 's/.*\(([<>=]+) *([^)]*)\).*/\2/' <<<"$spec")
      case "$op" in '<') op='<<' ;; '>') op='>>' ;; esac
      dpkg --compare-versions "$inst" "$op" "$ver"
      ;;
    *) return 0 ;;
  esac
}

# never unpacked for dependency reasons: not libraries, not needed to run qemu
SKIP_RE='^(dpkg|debconf|debconf-2\.0|cdebconf|init-system-helpers|adduser|passwd|base-files|base-passwd|perl-base|perl|python3.*|sensible-utils|lsb-base|sysvinit-utils|systemd|systemd-sysv|udev|mount|util-linux|login|coreutils|bash|dash|libc-bin|ucf|procps|acl|debianutils|readline-common|dmsetup|ceph-common|libpam-runtime|iproute2|qemu-block-extra|qemu-utils|qemu-system-gui|qemu-system-modules-.*|ovmf)$'

declare -A WANT=() SEEN=()
QUEUE=()
add() { # pkg reason
  [ -n "${SEEN[$1]:-}" ] && return 0
  SEEN[$1]=1
  local v; v=$(candidate "$1")
  if [ -z "$v" ]; then
    log "note: $1 has no candidate in $SUITE (virtual or absent), skipped"
    return 1
  fi
  WANT[$1]=$v
  QUEUE+=("$1")
  echo "$1=$v	$2" >> "$A/resolved.txt"
}
: > "$A/resolved.txt"

QV=$(candidate qemu-system-x86)
[ -n "$QV" ] || die "qemu-system-x86 is not in $SUITE"
if [ "$SUITE" != "$BASE" ] && ! apt_cache policy qemu-system-x86 | grep -A1 -F " $QV " | grep -q " $SUITE/"; then
  log "warning: $SUITE has no qemu-system-x86 of its own; using $QV from $BASE"
fi
add qemu-system-x86 "requested"
for p in qemu-system-common qemu-system-data seabios ipxe-qemu; do
  add "$p" "firmware/data" || true
done

i=0
while [ $i -lt ${#QUEUE[@]} ]; do
  p=${QUEUE[$i]}; i=$((i + 1))
  case "$p" in qemu-system-data|seabios|ipxe-qemu) continue ;; esac
  while IFS= read -r group; do
    [ -n "$group" ] || continue
    sat=0; alts=()
    IFS='|' read -ra alts <<<"$group"
    for alt in "${alts[@]}"; do
      alt=$(sed -E 's/^ +| +$//g; s/:any//' <<<"$alt")
      n=${alt%% *}
      if [ -n "${WANT[$n]:-}" ] || [[ $n =~ $SKIP_RE ]] || host_satisfies "$alt"; then sat=1; break; fi
    done
    [ $sat = 1 ] && continue
    for alt in "${alts[@]}"; do
      alt=$(sed -E 's/^ +| +$//g; s/:any//' <<<"$alt")
      n=${alt%% *}
      [ -n "${SEEN[$n]:-}" ] && { sat=1; break; }
      if add "$n" "needed by $p: $alt (host: $(dpkg-query -W -f='${Version}' "$n" 2>/dev/null | head -1 || true))"; then sat=1; break; fi
    done
    [ $sat = 1 ] || log "warning: cannot satisfy '$group' (for $p)"
  done < <(depends_of "$p" "${WANT[$p]}")
done

# ---------------------------------------------------------------- download + unpack
PKGS=()
for p in "${!WANT[@]}"; do PKGS+=("$p=${WANT[$p]}"); done
log "downloading ${#PKGS[@]} packages"
(cd "$A/debs" && apt_get download "${PKGS[@]}" >"$A/download.log" 2>&1) || {
  cat "$A/download.log" >&2; die "apt-get download failed"; }
for deb in "$A"/debs/*.deb; do
  dpkg-deb -x "$deb" "$ROOT"
done

# Debian points some files at absolute paths (e.g. /usr/share/qemu/x ->
# /usr/share/seabios/x); make such links point into ROOT when the target was
# unpacked, so the suite's own firmware is used rather than the host's.
while IFS= read -r -d '' l; do
  t=$(readlink "$l")
  case "$t" in /*) ;; *) continue ;; esac
  if [ -e "$ROOT$t" ] || [ -L "$ROOT$t" ]; then
    ln -sfn "$(realpath -m -s --relative-to="$(dirname "$l")" "$ROOT$t")" "$l"
  fi
done < <(find "$ROOT" -type l -print0)

BIN="$ROOT/usr/bin/qemu-system-x86_64"
[ -x "$BIN" ] || die "no qemu-system-x86_64 in the unpacked packages"

# standard library directories that hold unpacked shared objects
LIBDIRS=()
for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /lib /usr/lib; do
  [ -d "$ROOT$d" ] && [ ! -L "$ROOT$d" ] || continue
  if [ -n "$(find "$ROOT$d" -maxdepth 1 \( -name '*.so' -o -name '*.so.*' \) \( -type f -o -type l \) -print -quit)" ]; then
    LIBDIRS+=("$d")
  fi
done

LOADER=""
if [ -n "${WANT[libc6]:-}" ]; then
  for c in /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 /usr/lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2; do
    if [ -e "$ROOT$c" ]; then LOADER=$c; break; fi
  done
  [ -n "$LOADER" ] || die "libc6 unpacked but no ld-linux-x86-64.so.2 found in it"
fi

DATADIRS=()
for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
  [ -d "$ROOT$d" ] && DATADIRS+=("$d")
done
MODDIR=/usr/lib/x86_64-linux-gnu/qemu

# ---------------------------------------------------------------- wrapper
rm -rf "$DIR/loader"
if [ -n "$LOADER" ]; then
  mkdir -p "$DIR/loader"
  ln -s "../root$LOADER" "$DIR/loader/qemu-system-x86_64"
fi
W="$DIR/qemu-system-x86_64"
{
  echo '#!/bin/sh'
  echo "# Generated by migdown scripts/fetch-qemu.sh: Debian $SUITE qemu-system-x86 $QV"
  echo '# Runs the unpacked binary with its own firmware (-L) and libraries.'
  echo 'here=$(dirname "$(readlink -f "$0")")'
  echo 'r="$here/root"'
  printf 'export QEMU_MODULE_DIR="$r%s"\n' "$MODDIR"
  lp=""
  for d in "${LIBDIRS[@]}"; do lp="$lp${lp:+:}\$r$d"; done
  largs=""
  for d in "${DATADIRS[@]}"; do largs="$largs -L \"\$r$d\""; done
  if [ -n "$LOADER" ]; then
    # host library dirs come after the unpacked ones (the suite's libc can
    # load the host's older libraries; the reverse is not true).  The loader
    # is started through a symlink named qemu-system-x86_64 so that the
    # process name (comm) is "qemu-system-x86", as `pgrep qemu-system` expects;
    # --argv0 makes `ps`/`pgrep -a` show the qemu binary's path.
    echo "# libc6 from $SUITE is newer than the host's: use its own dynamic loader"
    echo "exec \"\$here/loader/qemu-system-x86_64\" --library-path \"$lp:/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu\" --argv0 \"\$r/usr/bin/qemu-system-x86_64\" \"\$r/usr/bin/qemu-system-x86_64\"$largs \"\$@\""
  else
    [ -n "$lp" ] && echo "export LD_LIBRARY_PATH=\"$lp\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}\""
    echo "exec \"\$r/usr/bin/qemu-system-x86_64\"$largs \"\$@\""
  fi
} > "$W"
chmod +x "$W"

{
  echo "suite: $SUITE"
  echo "mirror: $MIRROR"
  echo "qemu-system-x86: $QV"
  echo "loader: ${LOADER:-host}"
  echo "packages (name=version reason):"
  sed 's/^/  /' "$A/resolved.txt"
} > "$DIR/MANIFEST"

# ---------------------------------------------------------------- check
missing=""
if [ -n "$LOADER" ]; then
  missing=$("$ROOT$LOADER" --library-path "$(sed "s#\\\$r#$ROOT#g" <<<"$lp"):/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu" --list "$BIN" 2>&1 | grep -E 'not found|error while loading' || true)
else
  missing=$(LD_LIBRARY_PATH="$(sed "s#\\\$r#$ROOT#g" <<<"$lp")" ldd "$BIN" 2>&1 | grep 'not found' || true)
fi
if [ -n "$missing" ]; then
  log "warning: unresolved libraries:"; echo "$missing" >&2
fi

[ "$KEEP_DEBS" = 1 ] || rm -rf "$A"
if ! out=$(timeout 20 "$W" --version 2>&1); then
  echo "$out" >&2
  die "$W --version failed"
fi
echo "$out" | head -1 >> "$DIR/MANIFEST"
log "done: $W"
echo "$out" | head -1
