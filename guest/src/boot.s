# migdown guest payload: multiboot v1 entry and the switch to 64-bit long mode.
#
# QEMU's -kernel loads this ELF32 image at 1 MiB (multiboot v1) and jumps to _start
# in 32-bit protected mode with paging off, interrupts off, and:
#     %eax = 0x2BADB002 (multiboot bootloader magic)
#     %ebx = physical address of the multiboot info structure
# We need long mode because the guest must touch RAM above 4 GiB (an 8 GiB guest has
# RAM at 0-3 GiB and 4-9 GiB). This file does only what is needed to get there:
# identity-map the first 4 GiB with 2 MiB pages (tables in .bss) and jump to
# long_entry (main.s), which builds the real page tables from the memory map.
#
# Nothing here prints except die32: the UART is initialised in 64-bit code, but an
# un-initialised 16550 in QEMU still transmits, so die32 can report early failures.

        .set MB_MAGIC,      0x1BADB002
        .set MB_FLAGS,      0x00000002      # bit 1: please give us mem_* and mmap_*
        .set MB_BOOT_MAGIC, 0x2BADB002

        .set CR0_PE,   1 << 0
        .set CR0_PG,   1 << 31
        .set CR4_PAE,  1 << 5
        .set MSR_EFER, 0xC0000080
        .set EFER_LME, 1 << 8
        .set PTE_P,    1 << 0               # present
        .set PTE_RW,   1 << 1               # writable
        .set PTE_PS,   1 << 7               # 2 MiB page (in a page directory entry)

        .set COM1,     0x3F8
        .set COM1_LSR, COM1 + 5
        .set LSR_THRE, 0x20                 # transmit holding register empty

# ---------------------------------------------------------------------------------
        .section .multiboot, "a"
        .balign 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

# ---------------------------------------------------------------------------------
        .section .bss
        .balign 4096
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
boot_pd:        .skip 4 * 4096              # 4 page directories = 4 GiB of 2 MiB pages

        .balign 16
stack_bottom:   .skip 16384
        .globl stack_top
stack_top:

        .globl mb_info_ptr
        .balign 8
mb_info_ptr:    .skip 8                     # saved %ebx, read by main.s

# ---------------------------------------------------------------------------------
        .section .data
        # Flat GDT. Kernel segments for setup, user segments because the steady
        # state runs in ring 3 (see main.s), and a TSS that main.s fills in.
        .balign 8
gdt:
        .quad 0                             # null descriptor
        .quad 0x00AF9A000000FFFF            # 0x08: kernel code, DPL 0, L=1 (64-bit)
        .quad 0x00CF92000000FFFF            # 0x10: kernel data, flat, writable
        .quad 0x00CFF2000000FFFF            # 0x18: user data, DPL 3
        .quad 0x00AFFA000000FFFF            # 0x20: user code, DPL 3, L=1
        .globl gdt_tss
gdt_tss:
        .quad 0, 0                          # 0x28: 64-bit TSS descriptor (16 bytes)
gdt_end:
gdt_ptr:
        .word gdt_end - gdt - 1
        .quad gdt                           # lgdt in 32-bit mode reads the low 4 bytes

        .section .rodata

msg_bad_magic:  .asciz "ERR not booted by a multiboot v1 loader\n"
msg_no_lm:      .asciz "ERR CPU has no long mode (x86-64)\n"

# ---------------------------------------------------------------------------------
        .section .text
        .code32
        .globl _start
_start:
        cli
        cld
        mov     %eax, %edx                  # keep the magic and the info pointer:
        mov     %ebx, %ebp                  # zeroing .bss below clobbers %eax/%ecx/%edi

        # QEMU zero-fills .bss when it loads the ELF, but the multiboot spec does not
        # promise it, and the page tables below rely on zeroed memory.
        mov     $__bss_start, %edi
        mov     $__bss_end, %ecx
        sub     %edi, %ecx
        shr     $2, %ecx
        xor     %eax, %eax
        rep stosl
        mov     $stack_top, %esp

        mov     $msg_bad_magic, %esi
        cmp     $MB_BOOT_MAGIC, %edx
        jne     die32
        mov     %ebp, mb_info_ptr

        # Long mode present? (CPUID 0x80000001 EDX bit 29)
        mov     $msg_no_lm, %esi
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      die32
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx
        jnc     die32

        # Boot page tables: PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs, each PD entry maps
        # a 2 MiB page, identity. 2 MiB pages because 1 GiB pages need pdpe1gb,
        # which TCG and some CPU models lack. The upper halves of the entries stay 0.
        movl    $boot_pdpt + PTE_P + PTE_RW, boot_pml4
        mov     $boot_pdpt, %edi
        mov     $boot_pd + PTE_P + PTE_RW, %eax
        mov     $4, %ecx
1:      mov     %eax, (%edi)
        add     $4096, %eax
        add     $8, %edi
        loop    1b

        mov     $boot_pd, %edi
        mov     $PTE_P + PTE_RW + PTE_PS, %eax
        mov     $4 * 512, %ecx
2:      mov     %eax, (%edi)
        add     $0x200000, %eax
        add     $8, %edi
        loop    2b

        # The architectural sequence: PAE on, CR3, EFER.LME, then paging on, which
        # activates long mode (compatibility mode until we load a 64-bit CS).
        mov     %cr4, %eax
        or      $CR4_PAE, %eax
        mov     %eax, %cr4
        mov     $boot_pml4, %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        rdmsr
        or      $EFER_LME, %eax
        wrmsr
        mov     %cr0, %eax
        or      $CR0_PG + CR0_PE, %eax
        mov     %eax, %cr0

        lgdt    gdt_ptr
        ljmp    $0x08, $long_entry

# die32: print the NUL-terminated string at %esi on COM1, then stop for good.
# hlt with interrupts off never returns: that is the point here (a dead guest should
# not burn a host CPU); the host sees the ERR line and kills QEMU.
die32:
1:      mov     $COM1_LSR, %dx
2:      in      %dx, %al
        test    $LSR_THRE, %al
        jz      2b
        lodsb
        test    %al, %al
        jz      3f
        mov     $COM1, %dx
        out     %al, %dx
        jmp     1b
3:      cli
        hlt
        jmp     3b
