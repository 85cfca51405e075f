#!/bin/sh
# Build the migdown guest payload: guest/src/*.s -> migdown-guest.elf
#
#   guest/build.sh            writes guest/migdown-guest.elf (the committed binary)
#   guest/build.sh OUTDIR     writes OUTDIR/migdown-guest.elf (used by the tests)
#
# Needs only GNU as, ld and objcopy (binutils). The output is deterministic: no build-id, no
# symbols (which would carry file names), no .comment/.note sections, fixed input
# order, so the same binutils gives the same bytes every time.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

objs=""
for name in boot main serial; do
    # Assembled and linked as x86-64 (the 64-bit code needs 32S relocations that
    # ELF32 cannot express); boot.s switches to .code32 itself.
    as --64 -o "$tmp/$name.o" "$here/src/$name.s"
    objs="$objs $tmp/$name.o"
done

# The image has one RWX load segment by design (no paging protections in the guest);
# binutils >= 2.39 warns about that, older versions do not know the switch.
nowarn=""
if ld --help 2>/dev/null | grep -q -- '--no-warn-rwx-segments'; then
    nowarn="--no-warn-rwx-segments"
fi

# -n, max-page-size: do not pad segments to 4 KiB in the file (keeps it a few KiB)
# -s: no symbol table
# shellcheck disable=SC2086
ld -m elf_x86_64 -n -s --build-id=none -z max-page-size=16 $nowarn \
    -T "$here/src/linker.ld" -o "$tmp/linked.elf" $objs

# QEMU's multiboot loader refuses ELF64 ("Cannot load x86-64 image, give a 32bit
# one"); the image is all below 4 GiB, so the same segments fit an ELF32 container.
objcopy -O elf32-i386 "$tmp/linked.elf" "$tmp/migdown-guest.elf"

mv "$tmp/migdown-guest.elf" "$out/migdown-guest.elf"
echo "$out/migdown-guest.elf: $(wc -c < "$out/migdown-guest.elf") bytes"
