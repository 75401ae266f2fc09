// Tests for VA parsing and printing (va.ts): round trips for both halves, non-canonical addresses rejected.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alignDown, isUpper, va, vaBig, vaHex } from './va.ts';

describe('va and vaHex', () => {
  it.each([
    ['0xffff000008080000', 2 ** 48 + 0x8080000, true],
    ['0xffffffffffffffff', 2 ** 49 - 1, true],
    ['0xffff800000000000', 2 ** 48 + 2 ** 47, true],
    ['0x0000000000400000', 0x400000, false],
    ['0x0000ffffffffffff', 2 ** 48 - 1, false],
    ['0x0000000000000000', 0, false],
  ])('%s <-> VA %i (upper half: %s)', (text, n, upper) => {
    expect(va(text)).toBe(n);
    expect(vaHex(n)).toBe(text);
    expect(isUpper(n)).toBe(upper);
    expect(vaBig(n)).toBe(BigInt(text));
  });

  it('accepts bigints, including negative ones as two\'s complement', () => {
    expect(va(0xffff000008080000n)).toBe(va('0xffff000008080000'));
    expect(va(-4096n)).toBe(2 ** 49 - 4096);
  });

  it.each(['0x0001000000000000', '0x8000000000000000', '0xfffe000000000000', '0x7fffffffffffffff'])('rejects non-canonical %s', (text) => {
    expect(() => va(text)).toThrow(RangeError);
  });

  it('round-trips every canonical address', () => {
    const low = fc.bigInt({ min: 0n, max: (1n << 48n) - 1n });
    fc.assert(fc.property(fc.boolean(), low, (upper, lowBits) => {
      const full = upper ? (0xffffn << 48n) | lowBits : lowBits;
      const text = '0x' + full.toString(16).padStart(16, '0');
      const a = va(text);
      expect(vaHex(a)).toBe(text);
      expect(va(vaHex(a))).toBe(a);
      expect(isUpper(a)).toBe(upper);
    }), { numRuns: 200 });
  });

  it('rejects every address whose top 16 bits are neither all zeros nor all ones', () => {
    const top = fc.integer({ min: 1, max: 0xfffe }).map(BigInt);
    fc.assert(fc.property(top, fc.bigInt({ min: 0n, max: (1n << 48n) - 1n }), (t, low) => {
      expect(() => va((t << 48n) | low)).toThrow(RangeError);
    }), { numRuns: 200 });
  });

  it('alignDown rounds down to a power-of-two multiple', () => {
    expect(alignDown(va('0xffff000008081234'), 4096)).toBe(va('0xffff000008081000'));
    expect(alignDown(0x60_3456, 2 ** 21)).toBe(0x60_0000);
  });
});
