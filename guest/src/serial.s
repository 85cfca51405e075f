# migdown guest payload: COM1 output (64-bit code).
#
# Polled 16550 output, one byte per THRE. With a QEMU chardev behind the UART the
# baud rate is irrelevant, but when the host reads slowly QEMU holds THRE clear
# until its socket accepts the byte, so polling THRE is what gives back-pressure
# instead of silently dropped bytes.
#
# Calling convention for this file: arguments as noted, everything preserved
# except %rax, %rdx and the documented outputs.

        .set COM1,      0x3F8
        .set COM1_IER,  COM1 + 1
        .set COM1_FCR,  COM1 + 2
        .set COM1_LCR,  COM1 + 3
        .set COM1_MCR,  COM1 + 4
        .set COM1_LSR,  COM1 + 5
        .set LSR_THRE,  0x20

        .section .text
        .code64

# 115200 8N1, no interrupts, FIFOs off (we send one byte per THRE anyway).
        .globl uart_init
uart_init:
        mov     $COM1_IER, %dx
        xor     %al, %al                    # no UART interrupts: we have no IRQ handling
        out     %al, %dx
        mov     $COM1_LCR, %dx
        mov     $0x80, %al                  # DLAB=1: next two writes set the divisor
        out     %al, %dx
        mov     $COM1, %dx
        mov     $1, %al                     # 115200 / 1
        out     %al, %dx
        mov     $COM1_IER, %dx
        xor     %al, %al
        out     %al, %dx
        mov     $COM1_LCR, %dx
        mov     $0x03, %al                  # DLAB=0, 8 data bits, no parity, 1 stop
        out     %al, %dx
        mov     $COM1_FCR, %dx
        xor     %al, %al
        out     %al, %dx
        mov     $COM1_MCR, %dx
        mov     $0x03, %al                  # DTR | RTS
        out     %al, %dx
        ret

# putc: %al = byte. Waits for THRE, then writes.
        .globl putc
putc:
        push    %rax
        mov     $COM1_LSR, %dx
1:      in      %dx, %al
        test    $LSR_THRE, %al
        jz      1b
        pop     %rax
        mov     $COM1, %dx
        out     %al, %dx
        ret

# puts: %rsi = NUL-terminated string. Clobbers %rsi.
        .globl puts
puts:
1:      mov     (%rsi), %al
        test    %al, %al
        jz      2f
        call    putc
        inc     %rsi
        jmp     1b
2:      ret

# putdec: %rax = unsigned 64-bit value, printed in decimal. Clobbers %rcx, %rsi.
        .globl putdec
putdec:
        sub     $32, %rsp                   # 20 digits + NUL fit
        lea     31(%rsp), %rsi
        movb    $0, (%rsi)
        mov     $10, %ecx
1:      xor     %edx, %edx
        div     %rcx
        add     $'0', %dl
        dec     %rsi
        mov     %dl, (%rsi)
        test    %rax, %rax
        jnz     1b
        call    puts
        add     $32, %rsp
        ret

# puthex: %rax printed as 16 hex digits. Clobbers %rcx, %rsi.
        .globl puthex
puthex:
        mov     %rax, %rsi
        mov     $16, %ecx
1:      rol     $4, %rsi                    # next nibble, most significant first
        mov     %esi, %eax
        and     $0xF, %al
        add     $'0', %al
        cmp     $'9', %al
        jbe     2f
        add     $'a' - '9' - 1, %al
2:      call    putc
        dec     %ecx
        jnz     1b
        ret

# die: %rsi = message (should start with "ERR " and end with "\n"). Never returns.
# In ring 0, hlt with interrupts off stops the vCPU for good without spinning a host
# CPU; ring 3 may not hlt, so it spins. Either way the host sees the ERR line and
# tears QEMU down.
        .globl die
die:
        call    puts
        mov     %cs, %eax
        test    $3, %al
        jnz     2f
1:      cli
        hlt
        jmp     1b
2:      pause
        jmp     2b
