import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decode, encode, levelSize, type Descriptor, type Leaf } from './descriptor.ts';

// arch/arm64/include/asm/pgtable-hwdef.h (docs/sources/arm64-kpti.md §5a).
const PTE_VALID = 1n << 0n;
const PTE_TYPE_PAGE = 3n << 0n;
const PTE_TABLE_BIT = 1n << 1n;
const PMD_TYPE_TABLE = 3n << 0n;
const PMD_TYPE_SECT = 1n << 0n;
const PTE_USER = 1n << 6n;
const PTE_RDONLY = 1n << 7n;
const PTE_SHARED = 3n << 8n;
const PTE_AF = 1n << 10n;
const PTE_NG = 1n << 11n;
const PTE_CONT = 1n << 52n;
const PTE_PXN = 1n << 53n;
const PTE_UXN = 1n << 54n;
const PTE_ATTRINDX = (t: number) => BigInt(t) << 2n;
const PMD_TABLE_PXN = 1n << 59n;
const PMD_TABLE_UXN = 1n << 60n;
const S1_TABLE_AP = 3n << 61n;

const leafAttrs = { AttrIndx: 4, NS: false, AP: 0, SH: 3, AF: true, nG: false, Contiguous: false, PXN: false, UXN: false, POIndex: 0 };
const page = (over: Partial<Leaf> = {}): Descriptor => ({ kind: 'page', OA: 0x40080000, ...leafAttrs, ...over } as Descriptor);

describe('descriptor encoding matches pgtable-hwdef.h', () => {
  it('encodes a page with each attribute bit where the kernel puts it', () => {
    expect(encode(page())).toBe(0x40080000n | PTE_TYPE_PAGE | PTE_ATTRINDX(4) | PTE_SHARED | PTE_AF);
    expect(encode(page({ AP: 1 })) & PTE_USER).toBe(PTE_USER);
    expect(encode(page({ AP: 2 })) & PTE_RDONLY).toBe(PTE_RDONLY);
    expect(encode(page({ nG: true })) & PTE_NG).toBe(PTE_NG);
    expect(encode(page({ Contiguous: true })) & PTE_CONT).toBe(PTE_CONT);
    expect(encode(page({ PXN: true })) & PTE_PXN).toBe(PTE_PXN);
    expect(encode(page({ UXN: true })) & PTE_UXN).toBe(PTE_UXN);
  });

  it('decodes the kernel\'s PAGE_KERNEL_ROX-style value', () => {
    const raw = 0x40081000n | PTE_TYPE_PAGE | PTE_AF | PTE_SHARED | PTE_NG | PTE_RDONLY | PTE_UXN | PTE_ATTRINDX(4);
    expect(decode(raw, 3)).toEqual({ kind: 'page', OA: 0x40081000, ...leafAttrs, AP: 2, nG: true, UXN: true });
  });

  it('distinguishes table, block and page by bits [1:0] and the level', () => {
    expect(decode(0x40000000n | PMD_TYPE_TABLE, 2).kind).toBe('table');
    expect(decode(0x40000000n | PMD_TYPE_SECT, 2).kind).toBe('block');
    expect(decode(0x40000000n | PMD_TYPE_SECT, 1).kind).toBe('block');
    // Level 0 blocks and level 3 "blocks" are reserved with a 4 KiB granule.
    expect(decode(0x40000000n | PMD_TYPE_SECT, 0).kind).toBe('invalid');
    expect(decode(0x40000000n | PTE_VALID, 3).kind).toBe('invalid');
    expect(decode(0x40000000n | PTE_TABLE_BIT, 2).kind).toBe('invalid');
  });

  it('places the hierarchical table bits (PXNTable 59, UXNTable 60, APTable 62:61)', () => {
    const t = decode(0x40001000n | PMD_TYPE_TABLE | PMD_TABLE_PXN | PMD_TABLE_UXN | S1_TABLE_AP | (1n << 63n), 1);
    expect(t).toEqual({ kind: 'table', NLTA: 0x40001000, PXNTable: true, UXNTable: true, APTable: 3, NSTable: true });
    expect(encode(t)).toBe(0x40001000n | PMD_TYPE_TABLE | PMD_TABLE_PXN | PMD_TABLE_UXN | S1_TABLE_AP | (1n << 63n));
  });

  it('masks block output addresses to the block size', () => {
    const d = decode(0x40123000n | PMD_TYPE_SECT, 2);
    expect(d.kind === 'block' && d.OA).toBe(0x40000000);
    expect(levelSize(2)).toBe(2 << 20);
    expect(levelSize(1)).toBe(1 << 30);
  });

  const attrs = fc.record({
    AttrIndx: fc.nat({ max: 7 }), NS: fc.boolean(), AP: fc.nat({ max: 3 }), SH: fc.nat({ max: 3 }), AF: fc.boolean(), nG: fc.boolean(),
    Contiguous: fc.boolean(), PXN: fc.boolean(), UXN: fc.boolean(), POIndex: fc.nat({ max: 7 }),
  });
  const pfn = fc.nat({ max: 2 ** 36 - 1 });
  const located = fc.oneof(
    fc.record({ level: fc.constant(3), d: fc.tuple(pfn, attrs).map(([p, a]) => ({ kind: 'page' as const, OA: p * 4096, ...a })) }),
    fc.record({ level: fc.constant(2), d: fc.tuple(fc.nat({ max: 2 ** 27 - 1 }), attrs).map(([p, a]) => ({ kind: 'block' as const, OA: p * 2 ** 21, ...a })) }),
    fc.record({ level: fc.nat({ max: 2 }), d: fc.record({ kind: fc.constant('table' as const), NLTA: pfn.map((p) => p * 4096), PXNTable: fc.boolean(), UXNTable: fc.boolean(), APTable: fc.nat({ max: 3 }), NSTable: fc.boolean() }) }),
  );

  test.prop([located])('round-trips every valid descriptor: decode(encode(d)) = d', ({ level, d }) => {
    expect(decode(encode(d), level)).toEqual(d);
  });
});
