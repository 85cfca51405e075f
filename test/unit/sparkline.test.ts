// The one-line distribution for the terminal table: fixed width, so table columns stay
// aligned, and honest about where the values are.

import { describe, expect, it } from 'vitest';
import { DEFAULT_SPARKLINE_WIDTH, sparkline } from '../../src/render/sparkline.js';

const BLOCKS = ' \u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588';

describe('sparkline', () => {
  it('is always exactly `width` characters, blank when there is nothing to draw', () => {
    expect(sparkline([1, 2, 3])).toHaveLength(DEFAULT_SPARKLINE_WIDTH);
    for (const width of [1, 5, 12, 40]) {
      expect(sparkline([3, 4, 4, 5, 40], { width })).toHaveLength(width);
      expect(sparkline([], { width })).toBe(' '.repeat(width));
      expect(sparkline([Number.NaN, Number.POSITIVE_INFINITY], { width })).toBe(' '.repeat(width));
    }
  });

  it('bins the range evenly: the lowest value in the first column, the highest in the last', () => {
    // 0..9 over 10 columns: one value per bin, all at the same (full) height
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { width: 10 })).toBe('\u2588'.repeat(10));
    const s = sparkline([0, 100], { width: 5 });
    expect(s).toBe('\u2588   \u2588');
  });

  it('draws the fullest bin full height and any occupied bin at least one step high', () => {
    // 16 values in the first bin, one in the last: the straggler must still be visible
    const s = sparkline([...Array<number>(16).fill(4), 50], { width: 8 });
    expect(s[0]).toBe('\u2588');
    expect(s[7]).toBe('\u2581');
    expect(s.slice(1, 7)).toBe('      ');
  });

  it('scales heights by count', () => {
    // counts 8, 4, 2, 1 in four bins -> heights 8, 4, 2, 1 eighths
    const values = [...Array<number>(8).fill(0), ...Array<number>(4).fill(1), ...Array<number>(2).fill(2), 3];
    expect(sparkline(values, { width: 4 })).toBe('\u2588\u2584\u2582\u2581');
  });

  it('uses only block characters and spaces, or printable ASCII with ascii: true', () => {
    const values = [3, 4, 4, 5, 5, 5, 6, 9, 12, 30];
    for (const ch of sparkline(values, { width: 20 })) expect(BLOCKS).toContain(ch);
    const a = sparkline(values, { width: 20, ascii: true });
    expect(a).toMatch(/^[\x20-\x7e]{20}$/);
    expect(a.trim()).not.toBe('');
    // the same shape: blanks in the same places
    expect([...a].map((c) => c === ' ')).toEqual([...sparkline(values, { width: 20 })].map((c) => c === ' '));
  });

  it('puts equal values in the middle column', () => {
    expect(sparkline([7, 7, 7], { width: 5 })).toBe('  \u2588  ');
    expect(sparkline([7], { width: 4, ascii: true })).toBe(' #  ');
  });

  it('shares an axis across variants: min and max place the values, off-axis values go to the edges', () => {
    const a = sparkline([10, 11], { width: 10, min: 0, max: 100 });
    const b = sparkline([90, 95], { width: 10, min: 0, max: 100 });
    expect(a.indexOf('\u2588')).toBe(1);
    expect(b.indexOf('\u2588')).toBe(9);
    expect(sparkline([-5, 500], { width: 4, min: 0, max: 100 })).toBe('\u2588  \u2588');
    // swapped bounds are read the right way round
    expect(sparkline([10, 11], { width: 10, min: 100, max: 0 })).toBe(a);
  });

  it('is pure: the same input gives the same line, and the input is not touched', () => {
    const values = [5, 1, 3];
    const copy = [...values];
    expect(sparkline(values, { width: 6 })).toBe(sparkline(values, { width: 6 }));
    expect(values).toEqual(copy);
  });
});
