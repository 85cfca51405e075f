# migdown guest payload: 64-bit part.
#
#   long_entry  (ring 0) read the multiboot info, parse the command line, map all
#               RAM, set up a TSS, drop to ring 3;
#   user_main   (ring 3) print the banner, touch RAM, print READY, calibrate the
#               TSC, print TSC, then
#   main_loop   (ring 3) forever: heartbeat byte every hbus microseconds (each
#               carrying a 7-bit sequence number), dirty ws MiB at dirty MiB/s.
#
# Why ring 3: on hardware KVM and on TCG it makes no difference, but some nested
# "KVM" implementations (software/shadow-paging ones such as PVM) emulate guest
# supervisor code instruction by instruction (~1 us each) while running guest user
# code natively. Measured there: dirtying a page costs ~10,000 cycles in ring 0 and
# ~30 in ring 3. RFLAGS.IOPL=3 lets ring 3 drive the UART and the PIT directly.
#
# The serial protocol is documented in guest/README.md; keep the two in sync.
#
# Conventions: all addresses are identity-mapped physical addresses. The image lives
# below 2 GiB, so symbols are used as absolute 32-bit displacements/immediates.
# Setup functions clobber whatever they like; only main_loop keeps long-lived state
# in registers.

        .set MBI_FLAG_CMDLINE, 1 << 2
        .set MBI_FLAG_MMAP,    1 << 6
        .set MMAP_TYPE_RAM,    1

        .set MAX_REGIONS,  64               # RAM ranges kept from the memory map
        .set CMDLINE_MAX,  512
        .set PAGE,         4096
        # All entries are user-accessible (ring 3 runs the loop) and have the
        # accessed/dirty bits preset so a shadow-paging host never has to fault
        # just to set them.
        .set PTE_P_RW,     0x27             # present | writable | user | accessed
        .set PDE_2M,       0xE7             # ... | dirty | 2 MiB page
        .set MAP_LIMIT,    1 << 40          # we map (and use) RAM up to 1 TiB
        .set MIN_MAP_GIB,  4                # always map the whole 32-bit space

        .set TOUCH_NONE,   0
        .set TOUCH_READ,   1
        .set TOUCH_WRITE,  2

        .set PIT_HZ,       1193182
        .set CAL_MS,       50               # TSC calibration window
        .set CAL_LATCH,    PIT_HZ * CAL_MS / 1000

        .set HEARTBEAT,    0x80             # | 7-bit sequence number (protocol 2)
        .set DIRTY_BATCH,  64               # pages dirtied before re-reading the TSC
        .set CATCHUP_MS,   10               # dirtying further behind than this resyncs

        .set USER_DS,      0x18 | 3         # GDT selectors (boot.s), RPL 3
        .set USER_CS,      0x20 | 3
        .set TSS_SEL,      0x28
        .set RFLAGS_USER,  0x3002           # IOPL 3 (port I/O allowed), IF 0

        .set COM1,         0x3F8
        .set COM1_LSR,     COM1 + 5
        .set LSR_THRE,     0x20

# ---------------------------------------------------------------------------------
        .section .data
        .balign 8
# Parameters, with their defaults; the command line overrides them.
touch_mode:     .quad TOUCH_READ
dirty_mibs:     .quad 0                     # MiB/s to dirty; 0 = idle
ws_mib:         .quad 64                    # working set, MiB
hb_us:          .quad 1000                  # heartbeat period, us; 0 = no heartbeats
stats_ms:       .quad 0                     # STATS line period, ms; 0 = never

idt_ptr:        .word 32 * 16 - 1
                .long idt, 0

# ---------------------------------------------------------------------------------
        .section .bss
        .balign 8
cmdline:        .skip CMDLINE_MAX
nraw:           .skip 8
raw_regions:    .skip 16 * MAX_REGIONS      # [start, end) page-aligned type-1 RAM
nregions:       .skip 8
regions:        .skip 16 * (MAX_REGIONS + 1)   # the same minus the payload (may split one)
max_end:        .skip 8                     # highest RAM address + 1
pt_base:        .skip 8                     # final page tables: [pt_base, pt_end)
pt_end:         .skip 8
total_pages:    .skip 8                     # 4 KiB pages in regions[]
touched_pages:  .skip 8
tsc_khz:        .skip 8
ws_pages:       .skip 8
cur_addr:       .skip 8                     # working-set cursor: next page to dirty,
cur_end:        .skip 8                     # end of its region,
cur_idx:        .skip 8                     # index of its region,
cur_left:       .skip 8                     # pages left before wrapping to the start
stats_period:   .skip 8                     # in TSC cycles
stats_deadline: .skip 8
dirtied:        .skip 8                     # pages written by the dirtying loop, ever
dirty_resyncs:  .skip 8                     # times the dirty schedule was reset
hb_resyncs:     .skip 8                     # times the heartbeat schedule was reset
hb_seq:         .skip 8                     # beats sent, ever (the low 7 bits go out)
        .balign 16
idt:            .skip 32 * 16
tss:            .skip 104                   # RSP0: the stack for exceptions from ring 3
tss_iobitmap:   .skip 0x400 / 8             # ports 0-0x3FF allowed (0 bits)
tss_iobm_end:   .skip 1                     # the CPU wants a terminating 0xFF byte
        .balign 16
user_stack:     .skip 8192
user_stack_top:

# ---------------------------------------------------------------------------------
        .section .rodata
key_touch:      .asciz "touch="
key_dirty:      .asciz "dirty="
key_ws:         .asciz "ws="
key_hb:         .asciz "hb="
key_hbus:       .asciz "hbus="
key_stats:      .asciz "stats="
name_none:      .asciz "none"
name_read:      .asciz "read"
name_write:     .asciz "write"
        .balign 4
touch_names:    .long name_none, name_read, name_write

msg_banner:     .asciz "MIGDOWN-GUEST 2 touch="
msg_dirty:      .asciz " dirty="
msg_ws:         .asciz " ws="
msg_hb:         .asciz " hbus="
msg_stats_key:  .asciz " stats="
msg_ram:        .asciz " ram="
msg_ready:      .asciz "READY "
msg_tsc:        .asciz "TSC "
msg_stats:      .asciz "STATS "
msg_panic:      .asciz "PANIC exception "
msg_error:      .asciz " error "
msg_rip:        .asciz " rip "
msg_no_mmap:    .asciz "ERR no memory map from the bootloader\n"
msg_no_ram:     .asciz "ERR no usable RAM in the memory map\n"
msg_pt_fit:     .asciz "ERR page tables do not fit after the payload\n"
msg_tsc_fail:   .asciz "ERR TSC calibration failed\n"

# ---------------------------------------------------------------------------------
        .section .text
        .code64
        .globl long_entry
long_entry:
        mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $stack_top, %esp

        call    idt_init
        call    uart_init
        call    read_boot_info              # before anything overwrites the info
        call    parse_cmdline
        call    build_page_tables
        call    carve_regions
        call    tss_init

        # Drop to ring 3: iretq to user_main with user segments and IOPL 3.
        push    $USER_DS                    # SS
        push    $user_stack_top             # RSP
        push    $RFLAGS_USER
        push    $USER_CS
        push    $user_main
        iretq

user_main:
        call    print_banner
        call    touch_ram

        mov     $msg_ready, %esi
        call    puts
        mov     touched_pages, %rax
        shr     $8, %rax                    # 256 pages per MiB
        call    putdec
        mov     $'\n', %al
        call    putc

        call    calibrate_tsc
        mov     $msg_tsc, %esi
        call    puts
        mov     tsc_khz, %rax
        call    putdec
        mov     $'\n', %al
        call    putc

        jmp     run

# ---------------------------------------------------------------------------------
# tss_init: the TSS supplies the ring-0 stack used when an exception interrupts ring
# 3. Its descriptor holds the address split into pieces, hence built at run time.
#
# I/O permission: IOPL 3 alone lets ring 3 use any port on real hardware, but some
# virtualizers consult the TSS I/O bitmap anyway, so there is one allowing 0-0x3FF
# (UART at 0x3F8, PIT at 0x42/0x43/0x61).
tss_init:
        movq    $stack_top, tss + 4         # RSP0
        movw    $tss_iobitmap - tss, tss + 102
        movb    $0xFF, tss_iobm_end
        mov     $tss, %eax
        mov     $gdt_tss, %edi
        movw    $tss_iobm_end - tss, (%rdi) # limit (inclusive)
        mov     %ax, 2(%rdi)                # base 15:0
        shr     $16, %eax
        mov     %al, 4(%rdi)                # base 23:16
        movb    $0x89, 5(%rdi)              # present, 64-bit TSS (available)
        mov     %ah, 7(%rdi)                # base 31:24 (base 63:32 stays 0)
        mov     $TSS_SEL, %ax
        ltr     %ax
        ret

# ---------------------------------------------------------------------------------
# read_boot_info: copy the command line and the type-1 (RAM) ranges of the memory map
# into .bss. QEMU puts the map at 0x9000 and the command line right after the image,
# where the final page tables will go; touch=write would overwrite the map too.
read_boot_info:
        mov     mb_info_ptr, %rbx
        mov     (%rbx), %r8d                # flags
        test    $MBI_FLAG_CMDLINE, %r8d
        jz      1f
        mov     16(%rbx), %esi
        mov     $cmdline, %edi
        mov     $CMDLINE_MAX - 1, %ecx      # .bss is zero, so the copy stays terminated
2:      lodsb
        test    %al, %al
        jz      1f
        stosb
        loop    2b

1:      mov     $msg_no_mmap, %esi
        test    $MBI_FLAG_MMAP, %r8d
        jz      die
        mov     44(%rbx), %ecx              # mmap_length
        mov     48(%rbx), %esi              # mmap_addr
        add     %rsi, %rcx                  # end of the map
        mov     $raw_regions, %edi
        xor     %r9d, %r9d                  # ranges kept
        xor     %r10d, %r10d                # highest end
        movabs  $MAP_LIMIT, %r11
.Lmm_entry:
        # entry: u32 size (not counting itself), u64 base, u64 length, u32 type
        cmp     %rcx, %rsi
        jae     .Lmm_done
        cmpl    $MMAP_TYPE_RAM, 20(%rsi)
        jne     .Lmm_next
        mov     4(%rsi), %rax               # base
        mov     12(%rsi), %rdx
        add     %rax, %rdx                  # end
        add     $PAGE - 1, %rax             # only whole pages: round start up,
        and     $-PAGE, %rax
        and     $-PAGE, %rdx                # end down
        cmp     %r11, %rdx
        cmova   %r11, %rdx                  # nothing above what we map
        cmp     %rdx, %rax
        jae     .Lmm_next
        cmp     $MAX_REGIONS, %r9
        jae     .Lmm_next
        mov     %rax, (%rdi)
        mov     %rdx, 8(%rdi)
        add     $16, %rdi
        inc     %r9
        cmp     %r10, %rdx
        cmova   %rdx, %r10
.Lmm_next:
        mov     (%rsi), %eax
        lea     4(%rsi,%rax), %rsi
        jmp     .Lmm_entry
.Lmm_done:
        mov     $msg_no_ram, %esi
        test    %r9, %r9
        jz      die
        mov     %r9, nraw
        mov     %r10, max_end
        ret

# ---------------------------------------------------------------------------------
# parse_cmdline: "key=value" words separated by spaces; unknown words are ignored
# (QEMU prepends the kernel file name). Numbers are unsigned decimal; a bad touch=
# value keeps the default. The banner line reports what is in effect.
parse_cmdline:
        mov     $cmdline, %esi
.Lpc_word:
        cmpb    $' ', (%rsi)
        jne     1f
        inc     %rsi
        jmp     .Lpc_word
1:      cmpb    $0, (%rsi)
        je      .Lpc_done

        mov     $key_touch, %edi
        call    skip_prefix
        jc      2f
        mov     $name_read, %edi
        call    skip_prefix
        mov     $TOUCH_READ, %eax
        jnc     .Lpc_touch
        mov     $name_write, %edi
        call    skip_prefix
        mov     $TOUCH_WRITE, %eax
        jnc     .Lpc_touch
        mov     $name_none, %edi
        call    skip_prefix
        mov     $TOUCH_NONE, %eax
        jc      .Lpc_skip
.Lpc_touch:
        mov     %rax, touch_mode
        jmp     .Lpc_skip

2:      mov     $key_dirty, %edi
        call    skip_prefix
        jc      3f
        call    parse_dec
        mov     %rax, dirty_mibs
        jmp     .Lpc_skip
3:      mov     $key_ws, %edi
        call    skip_prefix
        jc      4f
        call    parse_dec
        mov     %rax, ws_mib
        jmp     .Lpc_skip
4:      mov     $key_hb, %edi              # hb=<ms>
        call    skip_prefix
        jc      6f
        call    parse_dec
        imul    $1000, %rax, %rax
        mov     %rax, hb_us
        jmp     .Lpc_skip
6:      mov     $key_hbus, %edi            # hbus=<us>: sub-millisecond periods
        call    skip_prefix
        jc      5f
        call    parse_dec
        mov     %rax, hb_us
        jmp     .Lpc_skip
5:      mov     $key_stats, %edi
        call    skip_prefix
        jc      .Lpc_skip
        call    parse_dec
        mov     %rax, stats_ms

.Lpc_skip:                                  # to the end of the word
        cmpb    $0, (%rsi)
        je      .Lpc_done
        cmpb    $' ', (%rsi)
        je      .Lpc_word
        inc     %rsi
        jmp     .Lpc_skip
.Lpc_done:
        ret

# skip_prefix: if the text at %rsi starts with the NUL-terminated string at %rdi,
# advance %rsi past it and clear CF; otherwise leave %rsi alone and set CF.
skip_prefix:
        mov     %rsi, %rdx
1:      mov     (%rdi), %al
        test    %al, %al
        jz      2f
        cmp     (%rdx), %al
        jne     3f
        inc     %rdi
        inc     %rdx
        jmp     1b
2:      mov     %rdx, %rsi
        clc
        ret
3:      stc
        ret

# parse_dec: unsigned decimal at %rsi -> %rax; %rsi ends on the first non-digit.
parse_dec:
        xor     %eax, %eax
1:      movzbl  (%rsi), %edx
        sub     $'0', %edx
        cmp     $9, %edx
        ja      2f
        imul    $10, %rax, %rax
        add     %rdx, %rax
        inc     %rsi
        jmp     1b
2:      ret

# ---------------------------------------------------------------------------------
# build_page_tables: identity-map [0, max(max_end, 4 GiB)) rounded up to 1 GiB with
# 2 MiB pages. Sized from the memory map (8 KiB per GiB: a 16 GiB guest needs 72 KiB,
# 1 TiB about 4 MiB) and placed right after the image, so nothing is reserved for RAM
# the guest does not have. Layout: PML4 | PDPTs | PDs, each part contiguous, so every
# level is a linear fill.
build_page_tables:
        mov     max_end, %rax
        add     $(1 << 30) - 1, %rax
        shr     $30, %rax                   # GiB to map (<= 1024: max_end is clipped)
        cmp     $MIN_MAP_GIB, %rax
        jae     1f
        mov     $MIN_MAP_GIB, %eax
1:      mov     %rax, %r8                   # r8 = page directories (one per GiB)
        lea     511(%rax), %r9
        shr     $9, %r9                     # r9 = PDPTs (one per 512 GiB)
        mov     $__image_end, %edi          # page-aligned by the linker script
        mov     %rdi, pt_base
        lea     1(%r9,%r8), %rcx            # pages: PML4 + PDPTs + PDs
        shl     $12, %rcx
        lea     (%rdi,%rcx), %rax
        mov     %rax, pt_end

        # The tables must sit in RAM: find the range holding the image, check the end.
        mov     $raw_regions, %esi
        mov     nraw, %rdx
2:      cmpq    $__image_start, (%rsi)
        ja      3f
        cmpq    $__image_start, 8(%rsi)
        ja      4f
3:      add     $16, %rsi
        dec     %rdx
        jnz     2b
        jmp     5f                          # image not in any RAM range?!
4:      cmp     8(%rsi), %rax
        jbe     6f
5:      mov     $msg_pt_fit, %esi
        jmp     die

6:      shr     $3, %rcx                    # zero them (rdi = pt_base)
        xor     %eax, %eax
        rep stosq

        mov     pt_base, %rdi               # PML4 entries -> PDPT pages
        lea     PAGE + PTE_P_RW(%rdi), %rax
        mov     %r9, %rcx
7:      mov     %rax, (%rdi)
        add     $PAGE, %rax
        add     $8, %rdi
        loop    7b

        mov     pt_base, %rdi               # PDPT entries -> PD pages
        add     $PAGE, %rdi                 # rdi = first PDPT
        mov     %r9, %rax
        shl     $12, %rax
        lea     PTE_P_RW(%rdi,%rax), %rax   # first PD, right after the PDPTs
        mov     %r8, %rcx
8:      mov     %rax, (%rdi)
        add     $PAGE, %rax
        add     $8, %rdi
        loop    8b

        mov     pt_base, %rdi               # PD entries -> 2 MiB pages, identity
        lea     1(%r9), %rax
        shl     $12, %rax
        add     %rax, %rdi                  # rdi = first PD
        mov     $PDE_2M, %eax
        mov     %r8, %rcx
        shl     $9, %rcx
9:      mov     %rax, (%rdi)
        add     $0x200000, %rax
        add     $8, %rdi
        loop    9b

        mov     pt_base, %rax               # switch; the old boot tables become unused
        mov     %rax, %cr3
        ret

# ---------------------------------------------------------------------------------
# carve_regions: regions[] = raw_regions[] minus [__image_start, pt_end), the payload
# with its stack and page tables: the guest must not scribble over itself.
carve_regions:
        mov     $raw_regions, %esi
        mov     $regions, %edi
        mov     nraw, %rcx
        xor     %r10d, %r10d                # pages
        mov     $__image_start, %r8d
        mov     pt_end, %r9
1:      mov     (%rsi), %rax                # [rax, rdx) = this range
        mov     8(%rsi), %rdx
        cmp     %r8, %rax                   # part below the payload: [start, min(end, image))
        jae     2f
        mov     %rdx, %r11
        cmp     %r8, %r11
        cmova   %r8, %r11
        mov     %rax, (%rdi)
        mov     %r11, 8(%rdi)
        add     $16, %rdi
        sub     %rax, %r11
        shr     $12, %r11
        add     %r11, %r10
2:      mov     %rax, %r11                  # part above: [max(start, pt_end), end)
        cmp     %r9, %r11
        cmovb   %r9, %r11
        cmp     %rdx, %r11
        jae     3f
        mov     %r11, (%rdi)
        mov     %rdx, 8(%rdi)
        add     $16, %rdi
        sub     %r11, %rdx
        shr     $12, %rdx
        add     %rdx, %r10
3:      add     $16, %rsi
        loop    1b
        mov     %r10, total_pages
        sub     $regions, %rdi
        shr     $4, %rdi
        mov     %rdi, nregions
        ret

# ---------------------------------------------------------------------------------
print_banner:
        mov     $msg_banner, %esi
        call    puts
        mov     touch_mode, %rax
        mov     touch_names(,%rax,4), %esi
        call    puts
        mov     $msg_dirty, %esi
        call    puts
        mov     dirty_mibs, %rax
        call    putdec
        mov     $msg_ws, %esi
        call    puts
        mov     ws_mib, %rax
        call    putdec
        mov     $msg_hb, %esi
        call    puts
        mov     hb_us, %rax
        call    putdec
        mov     $msg_stats_key, %esi
        call    puts
        mov     stats_ms, %rax
        call    putdec
        mov     $msg_ram, %esi
        call    puts
        mov     total_pages, %rax
        shr     $8, %rax
        call    putdec
        mov     $'\n', %al
        jmp     putc

# ---------------------------------------------------------------------------------
# touch_ram: one access per 4 KiB page of regions[].
#   read:  a byte load. KVM/the host map the page, but it stays zero, so migration
#          sends it as a zero page.
#   write: one non-zero qword (address | "MIGD" tag) at the start of the page: every
#          page becomes a normal, distinct page (no zero-page or dedup shortcuts).
touch_ram:
        movq    $0, touched_pages
        mov     touch_mode, %r9
        cmp     $TOUCH_NONE, %r9
        je      9f
        movabs  $0x4D49474400000000, %r8    # "MIGD" in the high half
        mov     $regions, %esi
        mov     nregions, %rcx
1:      mov     (%rsi), %rdi
        mov     8(%rsi), %rdx
        cmp     $TOUCH_WRITE, %r9
        je      3f
2:      cmp     %rdx, %rdi                  # read loop
        jae     4f
        movb    (%rdi), %al
        add     $PAGE, %rdi
        jmp     2b
3:      cmp     %rdx, %rdi                  # write loop
        jae     4f
        mov     %rdi, %rax
        or      %r8, %rax
        mov     %rax, (%rdi)
        add     $PAGE, %rdi
        jmp     3b
4:      add     $16, %rsi
        loop    1b
        mov     total_pages, %rax
        mov     %rax, touched_pages
9:      ret

# ---------------------------------------------------------------------------------
# calibrate_tsc: count TSC cycles over CAL_MS of PIT channel 2 in one-shot mode
# (mode 0): its OUT line, readable as bit 5 of port 0x61, goes high when the count
# runs out. The PIT runs at 1.193182 MHz in both KVM (in-kernel PIT) and TCG.
# Result in kHz = TSC cycles per millisecond.
calibrate_tsc:
        in      $0x61, %al
        and     $~0x02, %al                 # speaker data off,
        or      $0x01, %al                  # channel 2 gate on
        out     %al, $0x61
        mov     $0xB0, %al                  # channel 2, lo/hi byte, mode 0, binary
        out     %al, $0x43
        mov     $CAL_LATCH & 0xFF, %al
        out     %al, $0x42
        mov     $CAL_LATCH >> 8, %al
        out     %al, $0x42                  # counting starts now
        rdtsc
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, %r8
1:      in      $0x61, %al
        test    $0x20, %al
        jz      1b
        rdtsc
        shl     $32, %rdx
        or      %rdx, %rax
        sub     %r8, %rax                   # cycles in CAL_LATCH PIT ticks
        mov     $PIT_HZ, %ecx
        mul     %rcx
        mov     $CAL_LATCH * 1000, %ecx
        div     %rcx                        # cycles * PIT_HZ / (latch * 1000) = kHz
        mov     %rax, tsc_khz
        mov     $msg_tsc_fail, %esi
        test    %rax, %rax
        jz      die
        ret

# ---------------------------------------------------------------------------------
# run: set up the pacing state, then main_loop forever.
#
# Registers in main_loop:
#   r8   now (TSC)                    r12  next heartbeat deadline (TSC)
#   r9   2 heartbeat periods          r13  heartbeat period (cycles); 0 = off
#   r10  dirty catch-up limit (cycles); 0 = dirtying off
#   r14  next dirty deadline (TSC)    r15d its fraction (1/2^32 cycle)
#   rbx  cycles per page, integer     ebp  cycles per page, fraction (1/2^32)
#
# Both schedules are absolute TSC deadlines advanced by a fixed step, so rounding
# or a late lap never accumulates into drift. The page step is kept in 32.32 fixed
# point because it is rarely an integer number of cycles.
run:
        mov     tsc_khz, %rcx
        mov     hb_us, %rax                 # period in cycles = us * kHz / 1000
        imul    %rcx, %rax
        xor     %edx, %edx
        mov     $1000, %r13d
        div     %r13
        mov     %rax, %r13
        lea     (%r13,%r13), %r9

        xor     %r10d, %r10d
        xor     %ebx, %ebx
        xor     %ebp, %ebp
        mov     ws_mib, %rax
        shl     $8, %rax                    # MiB -> pages,
        cmp     total_pages, %rax
        cmova   total_pages, %rax           # at most all the RAM we have
        mov     %rax, ws_pages
        test    %rax, %rax
        jz      1f
        mov     dirty_mibs, %rsi
        shl     $8, %rsi                    # pages per second
        jz      1f
        imul    $1000, %rcx, %rax           # TSC cycles per second
        mov     %rax, %rdx
        shr     $32, %rdx
        shl     $32, %rax
        div     %rsi                        # (cycles/s << 32) / (pages/s)
        mov     %eax, %ebp
        shr     $32, %rax
        mov     %rax, %rbx
        imul    $CATCHUP_MS, %rcx, %r10
        call    ws_rewind

1:      mov     stats_ms, %rax
        imul    %rcx, %rax
        mov     %rax, stats_period
        rdtsc
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, %r12                  # first heartbeat right away
        mov     %rax, %r14
        xor     %r15d, %r15d
        add     stats_period, %rax
        mov     %rax, stats_deadline

main_loop:
        pause                               # no interrupts are set up: never hlt here
        rdtsc
        shl     $32, %rdx
        or      %rdx, %rax
        mov     %rax, %r8

        # --- heartbeat ---
        test    %r13, %r13
        jz      .Lstats
        mov     %r12, %rax
        sub     %r8, %rax                   # deadline - now
        jg      .Lhb_ahead
        mov     $COM1_LSR, %dx
        in      %dx, %al
        test    $LSR_THRE, %al
        jz      .Lstats                     # UART still busy (host slow): next lap
        mov     hb_seq, %al                 # the beat carries its sequence number,
        and     $0x7F, %al                  # so a lost or merged beat shows on the host
        or      $HEARTBEAT, %al
        mov     $COM1, %dx
        out     %al, %dx
        incq    hb_seq
        add     %r13, %r12
        mov     %r8, %rax
        sub     %r12, %rax                  # how far behind the next deadline is
        cmp     %r9, %rax
        jle     .Lstats
        lea     (%r8,%r13), %r12            # > 2 periods behind (TSC jumped forward,
        incq    hb_resyncs                  # or we were stopped): resync, no burst
        jmp     .Lstats
.Lhb_ahead:
        cmp     %r9, %rax
        jle     .Lstats
        lea     (%r8,%r13), %r12            # > 2 periods ahead: TSC went backwards
        incq    hb_resyncs

        # --- optional STATS line ---
.Lstats:
        mov     stats_period, %rax
        test    %rax, %rax
        jz      .Ldirty
        mov     %r8, %rdx
        sub     stats_deadline, %rdx        # now - deadline
        js      .Ldirty
        add     %rax, stats_deadline
        cmp     %rax, %rdx                  # a whole period late: resync quietly
        jb      1f
        lea     (%r8,%rax), %rdx
        mov     %rdx, stats_deadline
1:      call    print_stats

        # --- dirtying ---
.Ldirty:
        test    %r10, %r10
        jz      main_loop
        mov     $DIRTY_BATCH, %ecx
.Ldirty_page:
        mov     %r8, %rax
        sub     %r14, %rax                  # now - deadline
        js      .Ldirty_ahead
        cmp     %r10, %rax
        jbe     1f
        mov     %r8, %r14                   # > CATCHUP_MS behind: resync rather than
        xor     %r15d, %r15d                # write a burst of "owed" pages
        incq    dirty_resyncs
1:      call    ws_dirty_next
        add     %ebp, %r15d                 # deadline += step (32.32, carry into r14)
        adc     %rbx, %r14
        dec     %ecx
        jnz     .Ldirty_page
        jmp     main_loop
.Ldirty_ahead:
        neg     %rax                        # deadline - now
        cmp     %r10, %rax
        jbe     main_loop
        mov     %r8, %r14                   # far in the future: TSC went backwards
        xor     %r15d, %r15d
        incq    dirty_resyncs
        jmp     main_loop

# print_stats: "STATS <tsc> <pages dirtied> <dirty resyncs> <heartbeat resyncs>\n",
# all cumulative so that a reader can difference any two lines. Uses the TSC in %r8.
print_stats:
        mov     $msg_stats, %esi
        call    puts
        mov     %r8, %rax
        call    putdec
        mov     $' ', %al
        call    putc
        mov     dirtied, %rax
        call    putdec
        mov     $' ', %al
        call    putc
        mov     dirty_resyncs, %rax
        call    putdec
        mov     $' ', %al
        call    putc
        mov     hb_resyncs, %rax
        call    putdec
        mov     $'\n', %al
        jmp     putc

# ws_dirty_next: write the current TSC (%r8, never zero, always different) into the
# next page of the working set: the first ws_pages pages of regions[], cyclically.
# Clobbers %rax, %rsi, %rdi.
ws_dirty_next:
        incq    dirtied
        mov     cur_addr, %rdi
        mov     %r8, (%rdi)
        add     $PAGE, %rdi
        decq    cur_left
        jz      ws_rewind
        cmp     cur_end, %rdi
        jb      1f
        mov     cur_idx, %rsi               # next range (exists: ws_pages <= total_pages)
        inc     %rsi
        mov     %rsi, cur_idx
        shl     $4, %rsi
        mov     regions(%rsi), %rdi
        mov     regions+8(%rsi), %rax
        mov     %rax, cur_end
1:      mov     %rdi, cur_addr
        ret

ws_rewind:
        movq    $0, cur_idx
        mov     regions, %rax
        mov     %rax, cur_addr
        mov     regions+8, %rax
        mov     %rax, cur_end
        mov     ws_pages, %rax
        mov     %rax, cur_left
        ret

# ---------------------------------------------------------------------------------
# A catch-all for CPU exceptions (vectors 0-31): print
#     PANIC exception <vector> error <error code, hex> rip <faulting RIP, hex>
# and stop, instead of a silent triple fault and reboot. Each stub makes the frame
# uniform (a 0 error code where the CPU pushes none) and pushes its vector number.
idt_init:
        mov     $idt, %edi
        mov     $exc_stubs, %eax
        mov     $32, %ecx
1:      mov     %ax, (%rdi)                 # offset 15:0
        movw    $0x08, 2(%rdi)              # code segment
        movw    $0x8E00, 4(%rdi)            # present, DPL 0, 64-bit interrupt gate
        mov     %eax, %edx
        shr     $16, %edx
        mov     %dx, 6(%rdi)                # offset 31:16
        movq    $0, 8(%rdi)                 # offset 63:32, reserved
        add     $16, %eax
        add     $16, %rdi
        loop    1b
        lidt    idt_ptr
        ret

        .balign 16
exc_stubs:                                  # 16 bytes each
        .set vec, 0
        .rept 32
        .balign 16
        .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
        push    $0                          # no CPU error code for this vector
        .endif
        push    $vec
        jmp     exc_common
        .set vec, vec + 1
        .endr
exc_common:                                 # stack: vector, error code, RIP, ...
        mov     $msg_panic, %esi
        call    puts
        mov     (%rsp), %rax
        call    putdec
        mov     $msg_error, %esi
        call    puts
        mov     8(%rsp), %rax
        call    puthex
        mov     $msg_rip, %esi
        call    puts
        mov     16(%rsp), %rax
        call    puthex
        mov     $'\n', %al
        call    putc
1:      cli
        hlt
        jmp     1b
