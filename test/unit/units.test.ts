import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { parseDowntime, parsePositiveInt, parseRamSize, parseSpeed } from '../../src/util/units.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('--ram in QEMU -m syntax', () => {
  it.each([
    ['8G', 8 * GiB],
    ['8192M', 8 * GiB],
    ['512', 512 * MiB],
    ['1.5G', 1.5 * GiB],
    ['8GiB', 8 * GiB],
    ['2g', 2 * GiB],
  ])('%s', (text, bytes) => expect(parseRamSize(text)).toBe(bytes));

  it.each(['8X', '', 'G', '-1G', '4K', '8 G B'])('rejects %j with a UsageError', (text) => {
    expect(() => parseRamSize(text)).toThrow(UsageError);
  });
});

describe('--speed', () => {
  it.each([
    ['0', 0],
    ['1048576', 1048576],
    ['100M', 100 * MiB],
    ['1G', GiB],
    ['64K', 64 * 1024],
    ['100MB/s', 100 * MiB],
  ])('%s', (text, bytes) => expect(parseSpeed(text)).toBe(bytes));
  it('rejects words', () => expect(() => parseSpeed('fast')).toThrow(/--speed: cannot read "fast"/));
});

describe('--downtime', () => {
  it.each([
    ['0.01', 10],
    ['0.3', 300],
    ['10ms', 10],
    ['1s', 1000],
    ['.05', 50],
  ])('%s', (text, ms) => expect(parseDowntime(text)).toBe(ms));
  it.each(['abc', '-1', '0.0001', ''])('rejects %j', (text) => expect(() => parseDowntime(text)).toThrow(UsageError));
});

describe('whole numbers', () => {
  it('enforces the range', () => {
    expect(parsePositiveInt('--runs', '5')).toBe(5);
    expect(() => parsePositiveInt('--runs', '0')).toThrow('--runs: 0 is out of range (1 to 1000000)');
    expect(() => parsePositiveInt('--runs', '2.5')).toThrow('not a whole number');
  });
});

