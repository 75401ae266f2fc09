// Tests for x86 paging-structure entries (pte.ts): bit-exact against pgtable_types.h, round trips, PS vs PAT.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_GLOBAL, _PAGE_NX, _PAGE_PCD, _PAGE_PRESENT, _PAGE_PSE, _PAGE_PWT, _PAGE_RW, _PAGE_USER,
  decode, describe as describePte, encode, isLeaf, isNone, isTable, levelSize, mayBeTable, NOT_PRESENT, pte, PTE_PFN_MASK, type X86Pte,
} from './pte.ts';

// Composite protections from pgtable_types.h (x86-pti.md §1c), without KAISER's __PAGE_KERNEL_GLOBAL = 0.
const __PAGE_KERNEL_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_GLOBAL;
const __PAGE_KERNEL = __PAGE_KERNEL_EXEC | _PAGE_NX;
const __PAGE_KERNEL_RO = __PAGE_KERNEL & ~_PAGE_RW;
const __PAGE_KERNEL_RX = __PAGE_KERNEL_EXEC & ~_PAGE_RW;
const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
const _KERNPG_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;

const KERNEL_EXEC = { RW: true, D: true, A: true, G: true };

describe('pgtable_types.h constants', () => {
  it('puts each flag at the SDM bit position', () => {
    expect([_PAGE_PRESENT, _PAGE_RW, _PAGE_USER, _PAGE_PWT, _PAGE_PCD, _PAGE_ACCESSED, _PAGE_DIRTY, _PAGE_PSE, _PAGE_GLOBAL])
      .toEqual([0x1n, 0x2n, 0x4n, 0x8n, 0x10n, 0x20n, 0x40n, 0x80n, 0x100n]);
    expect(_PAGE_NX).toBe(0x8000000000000000n);
    expect(PTE_PFN_MASK).toBe(0x000ffffffffff000n);
  });

  it('gives the kernel\'s well-known composite values', () => {
    expect(__PAGE_KERNEL_EXEC).toBe(0x163n);
    expect(__PAGE_KERNEL).toBe(0x8000000000000163n);
    expect(__PAGE_KERNEL_RO).toBe(0x8000000000000161n);
    expect(__PAGE_KERNEL_RX).toBe(0x161n);
    expect(_PAGE_TABLE).toBe(0x67n);
    expect(_KERNPG_TABLE).toBe(0x63n);
  });
});

describe('encode', () => {
  it('encodes the kernel protections bit-exactly', () => {
    expect(encode(pte(0, KERNEL_EXEC))).toBe(__PAGE_KERNEL_EXEC);
    expect(encode(pte(0x1234_5000, { ...KERNEL_EXEC, NX: true }))).toBe(0x1234_5000n | __PAGE_KERNEL);
    expect(encode(pte(0x1234_5000, { A: true, D: true, G: true, NX: true }))).toBe(0x1234_5000n | __PAGE_KERNEL_RO);
    expect(encode(pte(0x7000, { RW: true, US: true, A: true, D: true }))).toBe(0x7000n | _PAGE_TABLE);
    expect(encode(pte(0x7000, { RW: true, A: true, D: true }))).toBe(0x7000n | _KERNPG_TABLE);
    expect(encode(pte(0x20_0000, { ...KERNEL_EXEC, PS: true }))).toBe(0x20_0000n | __PAGE_KERNEL_EXEC | _PAGE_PSE);
    expect(encode(pte(0x3000, { PWT: true, PCD: true }))).toBe(0x3000n | _PAGE_PRESENT | _PAGE_PWT | _PAGE_PCD);
    expect(encode(NOT_PRESENT)).toBe(0n);
  });

  it('refuses an address the format cannot hold', () => {
    expect(() => encode(pte(0x1001))).toThrow(RangeError);
    expect(() => encode(pte(2 ** 52))).toThrow(RangeError);
    expect(() => encode(pte(-4096))).toThrow(RangeError);
  });
});

describe('decode', () => {
  it('decodes __PAGE_KERNEL at a PTE', () => {
    expect(decode(0x1234_5000n | __PAGE_KERNEL, 3)).toEqual(pte(0x1234_5000, { ...KERNEL_EXEC, NX: true }));
  });

  it('reads bit 7 as PS at levels 1-2 but as PAT (not modelled) at level 3', () => {
    const v = 0x4000_0000n | __PAGE_KERNEL_EXEC | _PAGE_PSE;
    expect(decode(v, 1)).toMatchObject({ PS: true, addr: 0x4000_0000 });
    expect(decode(v, 2)).toMatchObject({ PS: true, addr: 0x4000_0000 });
    expect(decode(v, 3)).toMatchObject({ PS: false, addr: 0x4000_0000 });
    expect(isLeaf(decode(v, 3), 3)).toBe(true);
    expect(isLeaf(decode(v, 2), 2)).toBe(true);
  });

  it('aligns a large page\'s address to its size (bit 12 is PAT there), not a table\'s', () => {
    const v = 0x4020_1000n | _PAGE_PRESENT | _PAGE_PSE;
    expect(decode(v, 2).addr).toBe(0x4020_0000);
    expect(decode(v, 1).addr).toBe(0x4000_0000);
    expect(decode(0x4020_1000n | _PAGE_PRESENT, 2).addr).toBe(0x4020_1000);
  });

  it('keeps the other bits of a non-present entry (Linux stores PROT_NONE and swap entries there)', () => {
    const e = decode(0x5000n | _PAGE_GLOBAL | _PAGE_RW, 3);
    expect(e).toEqual({ ...NOT_PRESENT, G: true, RW: true, addr: 0x5000 });
    expect(isNone(e)).toBe(false);
    expect(isNone(decode(0n, 3))).toBe(true);
  });
});

describe('table or leaf', () => {
  it('classifies by P, PS and the level', () => {
    const table = pte(0x5000, { RW: true }), big = pte(0x20_0000, { PS: true });
    expect([0, 1, 2, 3].map((l) => isTable(table, l))).toEqual([true, true, true, false]);
    expect([0, 1, 2, 3].map((l) => isLeaf(table, l))).toEqual([false, false, false, true]);
    // PS in a PML4E is reserved: neither a table nor a page.
    expect([0, 1, 2, 3].map((l) => isLeaf(big, l))).toEqual([false, true, true, true]);
    expect(isTable(big, 0)).toBe(false);
    expect(isTable(NOT_PRESENT, 1) || isLeaf(NOT_PRESENT, 3)).toBe(false);
    expect([mayBeTable(table), mayBeTable(big), mayBeTable(NOT_PRESENT)]).toEqual([true, false, false]);
  });

  it('sizes the levels as 512 GiB, 1 GiB, 2 MiB, 4 KiB', () => {
    expect([0, 1, 2, 3].map(levelSize)).toEqual([2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12]);
  });
});

describe('round trips', () => {
  const bools = fc.record({
    P: fc.boolean(), RW: fc.boolean(), US: fc.boolean(), PWT: fc.boolean(), PCD: fc.boolean(),
    A: fc.boolean(), D: fc.boolean(), PS: fc.boolean(), G: fc.boolean(), NX: fc.boolean(),
  });
  const entryAt = fc.tuple(fc.integer({ min: 0, max: 3 }), bools, fc.integer({ min: 0, max: 2 ** 40 - 1 })).map(([level, b, pfn]) => {
    const PS = b.PS && level < 3;
    const align = PS && level > 0 ? levelSize(level) : 4096;
    const addr = Math.floor((pfn * 4096) / align) * align;
    return { level, e: { ...b, PS, addr } as X86Pte };
  });

  test.prop([entryAt])('decode(encode(e), level) = e for every entry valid at its level', ({ level, e }) => {
    expect(decode(encode(e), level)).toEqual(e);
  });

  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 0, max: 3 })])(
    'encode(decode(v, level)) keeps exactly the modelled bits of v', (v, level) => {
      const e = decode(v, level);
      const flags = 0x17fn | _PAGE_NX | (level < 3 ? _PAGE_PSE : 0n);
      const addrMask = e.PS && level > 0 ? PTE_PFN_MASK & ~(BigInt(levelSize(level)) - 1n) : PTE_PFN_MASK;
      expect(encode(e)).toBe(v & (flags | addrMask));
    });
});

describe('describe (dump_pagetables.c flags)', () => {
  it.each<[X86Pte, number, string]>([
    [pte(0x100_0000, { ...KERNEL_EXEC, PS: true }), 2, 'RW PSE GLB x pmd pa=0x1000000'],
    [pte(0x300_0000, { RW: true, US: true, NX: true }), 3, 'USR RW NX pte pa=0x3000000'],
    [pte(0x3000, { PWT: true, PCD: true, G: true }), 3, 'ro PWT PCD GLB x pte pa=0x3000'],
    [pte(0x5000, { RW: true, US: true, G: true }), 0, 'USR RW x pgd table pa=0x5000'],
    [pte(0x5000, { PS: true }), 0, 'ro PSE x pgd reserved pa=0x5000'],
    [NOT_PRESENT, 1, 'pud not present'],
    [{ ...NOT_PRESENT, G: true, addr: 0x5000 }, 3, 'pte not present (0x5100)'],
  ])('%o at level %i prints as %s', (e, level, text) => { expect(describePte(e, level)).toBe(text); });
});
