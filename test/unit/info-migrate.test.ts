import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseInfoMigrate, parseInfoStatus, type MigrationInfo } from '../../src/qemu/info-migrate.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/info-migrate/${name}`, import.meta.url), 'latin1');

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const GLOBALS_7_2 = {
  'store-global-state': 'on',
  'only-migratable': 'off',
  'send-configuration': 'on',
  'send-section-footer': 'on',
  'decompress-error-check': 'on',
  'clear-bitmap-shift': '18',
};

describe('parseInfoMigrate: QEMU 7.2 (real transcripts)', () => {
  const completed: MigrationInfo = {
    globals: GLOBALS_7_2,
    status: 'completed',
    totalTimeMs: 145,
    downtimeMs: 4,
    setupMs: 3,
    transferredRamBytes: 2757 * KiB,
    throughputMbps: 165.91,
    remainingRamBytes: 0,
    totalRamBytes: 1049096 * KiB,
    duplicatePages: 262170,
    skippedPages: 0,
    normalPages: 113,
    normalBytes: 452 * KiB,
    dirtySyncCount: 3,
    pageSizeBytes: 4 * KiB,
    multifdBytes: 0,
    pagesPerSecond: 1887415,
    precopyRamBytes: 2737 * KiB,
    downtimeRamBytes: 20 * KiB,
    unknown: [],
  };

  it('reads every field of a completed migration', () => {
    // toStrictEqual: also proves nothing else (e.g. expectedDowntimeMs, failureReason) was set
    expect(parseInfoMigrate(fixture('qemu-7.2-completed.txt'))).toStrictEqual(completed);
  });

  it('reads the raw monitor bytes (greeting, readline echo, escapes, CRLF, prompt) the same way', () => {
    expect(parseInfoMigrate(fixture('qemu-7.2-completed.raw'))).toStrictEqual(completed);
  });

  it('accepts CRLF line ends, a leading echo line, a trailing prompt and stray ANSI escapes', () => {
    const text = fixture('qemu-7.2-completed.txt');
    const noisy = `info migrate\r\n${text.replace(/\n/g, '\r\n').replace('downtime:', '\x1b[Kdowntime:')}(qemu) `;
    expect(parseInfoMigrate(noisy)).toStrictEqual(completed);
  });

  it('reads an active migration: expected downtime, no downtime yet', () => {
    const info = parseInfoMigrate(fixture('qemu-7.2-active.txt'));
    expect(info.status).toBe('active');
    expect(info.expectedDowntimeMs).toBe(10);
    expect(info.downtimeMs).toBeUndefined();
    expect(info.totalTimeMs).toBe(516);
    expect(info.transferredRamBytes).toBe(614 * KiB);
    expect(info.remainingRamBytes).toBe(782304 * KiB);
    expect(info.throughputMbps).toBe(8.39);
    expect(info.precopyRamBytes).toBe(614 * KiB);
    expect(info.downtimeRamBytes).toBeUndefined();
    expect(info.failureReason).toBeUndefined();
    expect(info.unknown).toEqual([]);
  });

  it('reads a cancelled migration', () => {
    expect(parseInfoMigrate(fixture('qemu-7.2-cancelled.txt'))).toStrictEqual({
      globals: GLOBALS_7_2,
      status: 'cancelled',
      totalTimeMs: 0,
      unknown: [],
    });
  });

  it('reads a failed migration with its reason', () => {
    expect(parseInfoMigrate(fixture('qemu-7.2-failed.txt'))).toStrictEqual({
      globals: GLOBALS_7_2,
      status: 'failed',
      failureReason: 'Unable to write to socket: Connection reset by peer',
      totalTimeMs: 0,
      unknown: [],
    });
  });

  it('leaves status undefined when no migration happened yet (only globals printed)', () => {
    expect(parseInfoMigrate(fixture('qemu-7.2-none.txt'))).toStrictEqual({
      globals: GLOBALS_7_2,
      unknown: [],
    });
  });

  it('reads the destination side after a completed migration', () => {
    const info = parseInfoMigrate(fixture('qemu-7.2-dest-completed.txt'));
    expect(info.status).toBe('completed');
    expect(info.totalTimeMs).toBe(0);
    expect(info.downtimeMs).toBeUndefined();
  });
});

describe('parseInfoMigrate: QEMU 2.4 layout (reconstructed)', () => {
  const CAPS = {
    xbzrle: false,
    'rdma-pin-all': false,
    'auto-converge': false,
    'zero-blocks': false,
    compress: false,
    events: false,
  };

  it('reads the capabilities line, "milliseconds" durations, and no globals', () => {
    expect(parseInfoMigrate(fixture('qemu-2.4-completed.txt'))).toStrictEqual({
      capabilities: CAPS,
      status: 'completed',
      totalTimeMs: 1523,
      downtimeMs: 37,
      setupMs: 11,
      transferredRamBytes: 412377 * KiB,
      throughputMbps: 2217.63,
      remainingRamBytes: 0,
      totalRamBytes: 1065672 * KiB,
      duplicatePages: 166871,
      skippedPages: 0,
      normalPages: 102527,
      normalBytes: 410108 * KiB,
      dirtySyncCount: 4,
      unknown: [],
    });
  });

  it('reads an active migration with a dirty pages rate', () => {
    const info = parseInfoMigrate(fixture('qemu-2.4-active.txt'));
    expect(info.status).toBe('active');
    expect(info.capabilities?.['auto-converge']).toBe(true);
    expect(info.expectedDowntimeMs).toBe(612);
    expect(info.dirtyPagesRate).toBe(61432);
    expect(info.globals).toBeUndefined();
    expect(info.unknown).toEqual([]);
  });

  it('reads "failed" with no reason (reasons appeared in 2.7)', () => {
    const info = parseInfoMigrate(fixture('qemu-2.4-failed.txt'));
    expect(info.status).toBe('failed');
    expect(info.failureReason).toBeUndefined();
    expect(info.totalTimeMs).toBe(0);
  });
});

describe('parseInfoMigrate: QEMU 5.0 layout (reconstructed)', () => {
  it('reads "milliseconds" durations together with the globals block', () => {
    const info = parseInfoMigrate(fixture('qemu-5.0-completed.txt'));
    expect(info.globals).toEqual(GLOBALS_7_2);
    expect(info.capabilities).toBeUndefined();
    expect(info.status).toBe('completed');
    expect(info.totalTimeMs).toBe(2104);
    expect(info.downtimeMs).toBe(23);
    expect(info.setupMs).toBe(6);
    expect(info.pageSizeBytes).toBe(4096);
    expect(info.multifdBytes).toBe(0);
    expect(info.pagesPerSecond).toBe(32412);
    expect(info.unknown).toEqual([]);
  });

  it('reads a failed migration with its reason', () => {
    const info = parseInfoMigrate(fixture('qemu-5.0-failed.txt'));
    expect(info.status).toBe('failed');
    expect(info.failureReason).toBe('Unable to write to socket: Broken pipe');
  });
});

describe('parseInfoMigrate: blockers (6.0+)', () => {
  it('collects the indented reasons after "Outgoing migration blocked:"', () => {
    expect(parseInfoMigrate(fixture('qemu-8.2-blocked.txt'))).toStrictEqual({
      globals: GLOBALS_7_2,
      blocked: [
        'State blocked by non-migratable CPU device (invtsc flag)',
        "State blocked by non-migratable device '0000:00:04.0/vhost-vsock'",
      ],
      unknown: [],
    });
  });

  it('ends the blocker list at the first unindented line', () => {
    const info = parseInfoMigrate('Outgoing migration blocked:\n  one\n  two\nStatus: \t\tactive\n');
    expect(info.blocked).toEqual(['one', 'two']);
    expect(info.status).toBe('active');
  });
});

describe('parseInfoMigrate: QEMU 10.1 grouped layout (reconstructed)', () => {
  const completed: MigrationInfo = {
    status: 'completed',
    totalTimeMs: 2104,
    setupMs: 6,
    downtimeMs: 23,
    throughputMbps: 2065.45,
    pageSizeBytes: 4 * KiB,
    totalRamBytes: Math.round(2.02 * GiB),
    transferredRamBytes: 519 * MiB,
    remainingRamBytes: 0,
    precopyRamBytes: 496 * MiB,
    multifdBytes: 0,
    postcopyRamBytes: 0,
    normalPages: 126924,
    duplicatePages: 402876,
    pagesPerSecond: 32412,
    dirtySyncCount: 3,
    downtimeRamBytes: 24117248,
    unknown: [],
  };

  it('reads every group of a completed migration (tabs, human sizes)', () => {
    expect(parseInfoMigrate(fixture('qemu-10.1-completed.txt'))).toStrictEqual(completed);
  });

  it('reads the indented Globals block that `info migrate -a` adds', () => {
    expect(parseInfoMigrate(fixture('qemu-10.1-completed-all.txt'))).toStrictEqual({
      ...completed,
      globals: {
        'store-global-state': 'on',
        'only-migratable': 'off',
        'send-configuration': 'on',
        'send-section-footer': 'on',
        'send-switchover-start': 'on',
        'clear-bitmap-shift': '18',
      },
    });
  });

  it('reads exp_down and the dirty page rate of an active migration', () => {
    const info = parseInfoMigrate(fixture('qemu-10.1-active.txt'));
    expect(info.status).toBe('active');
    expect(info.totalTimeMs).toBe(1023);
    expect(info.expectedDowntimeMs).toBe(300);
    expect(info.downtimeMs).toBeUndefined();
    expect(info.precopyRamBytes).toBe(744);
    expect(info.multifdBytes).toBe(459 * MiB);
    expect(info.remainingRamBytes).toBe(278 * MiB);
    expect(info.totalRamBytes).toBe(Math.round(8.13 * GiB));
    expect(info.dirtyPagesRate).toBe(1520);
    expect(info.unknown).toEqual([]);
  });

  it('reads the failure text of the Status line', () => {
    expect(parseInfoMigrate(fixture('qemu-10.1-failed.txt'))).toStrictEqual({
      status: 'failed',
      failureReason: 'Unable to write to socket: Connection reset by peer',
      unknown: [],
    });
  });

  it('reads the reason 10.1 also prints for postcopy-paused, parentheses and all', () => {
    const info = parseInfoMigrate('Status: \t\tpostcopy-paused (Channel error (fd 12): EOF)\n');
    expect(info.status).toBe('postcopy-paused');
    expect(info.failureReason).toBe('Channel error (fd 12): EOF');
  });

  it('copes with the tabs turned into spaces (as pasted on the mailing list)', () => {
    const info = parseInfoMigrate(
      [
        'Status: postcopy-active',
        'Time (ms): total=6522, setup=33, down=16',
        'RAM info:',
        '  Throughput (Mbps): 949.60',
        '  Sizes: pagesize=4 KiB, total=16 GiB',
        '  Transfers: transferred=703 MiB, remain=5.4 GiB',
        '    Channels: precopy=111 MiB, multifd=0 B, postcopy=592 MiB',
        '    Page Types: normal=178447, zero=508031',
        '  Page Rates (pps): transfer=167581',
        '  Others: dirty_syncs=2, postcopy_req=1652',
      ].join('\n'),
    );
    expect(info.status).toBe('postcopy-active');
    expect(info.downtimeMs).toBe(16);
    expect(info.totalRamBytes).toBe(16 * GiB);
    expect(info.remainingRamBytes).toBe(Math.round(5.4 * GiB));
    expect(info.postcopyRamBytes).toBe(592 * MiB);
    expect(info.postcopyRequests).toBe(1652);
    expect(info.unknown).toEqual([]);
  });

  it('reads the "(KiB)" variant of the groups from the first version of the patch', () => {
    const info = parseInfoMigrate(
      [
        '  Sizes (KiB):        pagesize=4, total=16777992',
        '  Transfers (KiB):    transferred=37673019, remain=2136404',
        '  Page Rates (pps):   transfer_rate=185875, dirty_rate=278378',
      ].join('\n'),
    );
    expect(info.pageSizeBytes).toBe(4 * KiB);
    expect(info.totalRamBytes).toBe(16777992 * KiB);
    expect(info.remainingRamBytes).toBe(2136404 * KiB);
    expect(info.pagesPerSecond).toBe(185875);
    expect(info.dirtyPagesRate).toBe(278378);
    expect(info.unknown).toEqual([]);
  });
});

describe('parseInfoMigrate: QEMU 11.1 (reconstructed)', () => {
  it('reads the top-level Remaining line apart from the RAM remain=', () => {
    const info = parseInfoMigrate(fixture('qemu-11.1-active.txt'));
    expect(info.status).toBe('active');
    expect(info.expectedDowntimeMs).toBe(41);
    expect(info.remainingBytes).toBe(Math.round(1.21 * GiB));
    expect(info.remainingRamBytes).toBe(Math.round(1.2 * GiB));
    expect(info.transferredRamBytes).toBe(Math.round(2.85 * GiB));
    expect(info.dirtyPagesRate).toBe(8813);
    expect(info.unknown).toEqual([]);
  });
});

describe('parseInfoMigrate: idle, unknown and hostile input', () => {
  it('returns only an empty unknown list for empty output (idle 10.1+, or <= 2.9)', () => {
    expect(parseInfoMigrate(fixture('empty.txt'))).toStrictEqual({ unknown: [] });
    expect(parseInfoMigrate('')).toStrictEqual({ unknown: [] });
    expect(parseInfoMigrate('\r\n  \n(qemu) ')).toStrictEqual({ unknown: [] });
  });

  it('keeps lines it does not understand verbatim and still reads the rest', () => {
    const text = [
      'Migration status: active',
      'total time: 12 ms',
      'cache size: 67108864 bytes',
      'xbzrle overflow : 0',
      'cpu throttle percentage: 20',
      'something new in QEMU 42',
      'setup: 5 fortnights',
    ].join('\n');
    const info = parseInfoMigrate(text);
    expect(info.status).toBe('active');
    expect(info.totalTimeMs).toBe(12);
    // a known key with a unit it does not expect is not silently misread
    expect(info.setupMs).toBeUndefined();
    expect(info.unknown).toEqual([
      'cache size: 67108864 bytes',
      'xbzrle overflow : 0',
      'cpu throttle percentage: 20',
      'something new in QEMU 42',
      'setup: 5 fortnights',
    ]);
  });

  it('keeps a partly understood group line in unknown but uses the parts it knows', () => {
    const line = '    Channels: \t\tprecopy=1 MiB, multifd=0 B, postcopy=0 B, rdma=3 MiB';
    const info = parseInfoMigrate(line);
    expect(info.precopyRamBytes).toBe(MiB);
    expect(info.unknown).toEqual([line]);
  });

  it('ends the old globals block at the capabilities line (2.10 - 4.1 print both)', () => {
    const info = parseInfoMigrate(
      'globals:\nstore-global-state: on\ncapabilities: xbzrle: off events: on \nMigration status: setup\n',
    );
    expect(info.globals).toEqual({ 'store-global-state': 'on' });
    expect(info.capabilities).toEqual({ xbzrle: false, events: true });
    expect(info.status).toBe('setup');
  });

  it('never throws, whatever it is given', () => {
    const samples: unknown[] = [
      'garbage',
      ':::',
      'Migration status:',
      'Migration status: (',
      'Time (ms): total=',
      'Time (ms): =,=,=',
      'Sizes: pagesize=NaN KiB, total=1e999 GiB',
      'total time: -Infinity ms',
      'globals:\n: \n-: x',
      'Outgoing migration blocked:',
      '\x00\x01\x02\x1b[\x1b]\x1b',
      '\u{1F600} status: \u{1F600}',
      'a'.repeat(100_000),
      undefined,
      null,
      42,
    ];
    // a small deterministic fuzz: fragments of real output shuffled together
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = 'Migration status: total ms kbytes= , ()\t\n:=GiB KiB 0123456789.-e';
    for (let i = 0; i < 200; i++) {
      let s = '';
      const len = rand(80);
      for (let j = 0; j < len; j++) s += alphabet[rand(alphabet.length)];
      samples.push(s);
    }
    for (const s of samples) {
      expect(() => parseInfoMigrate(s as string)).not.toThrow();
      const info = parseInfoMigrate(s as string);
      expect(Array.isArray(info.unknown)).toBe(true);
      for (const v of Object.values(info)) {
        if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
      }
      expect(() => parseInfoStatus(s as string)).not.toThrow();
    }
  });
});

describe('parseInfoStatus', () => {
  it('reads the real 7.2 destination reply', () => {
    expect(parseInfoStatus(fixture('qemu-7.2-dest-status.txt'))).toEqual({ status: 'running', running: true });
  });

  it.each([
    ['VM status: running', { status: 'running', running: true }],
    ['VM status: paused', { status: 'paused', running: false }],
    ['VM status: paused (postmigrate)', { status: 'postmigrate', running: false }],
    ['VM status: paused (inmigrate)', { status: 'inmigrate', running: false }],
    ['VM status: running (single step mode)', { status: 'running', running: true }],
    ['VM status: paused (single step mode) (postmigrate)', { status: 'postmigrate', running: false }],
    ['info status\r\nVM status: paused (postmigrate)\r\n(qemu) ', { status: 'postmigrate', running: false }],
  ])('%j', (text, expected) => {
    expect(parseInfoStatus(text)).toEqual(expected);
  });

  it('returns an empty object when there is no status line', () => {
    expect(parseInfoStatus('')).toEqual({});
    expect(parseInfoStatus('unknown command: info statu')).toEqual({});
  });
});
