// Ops a mitigation yields are checked before they run: a descriptor the real
// 64-bit format cannot hold is bad input, not a state the machine goes on from.

import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { tableDesc, type Descriptor, type Page } from './descriptor.ts';
import { str } from './ops.ts';
import { invalidOp } from './validate.ts';

const mem = new PhysMem<Descriptor>(0x4000_0000, 1 << 24);
const table = mem.claim(0x4000_0000, 'page-table', 'test_pg_dir', true);
const page: Page = { kind: 'page', OA: 0x4010_0000, AttrIndx: 4, NS: false, AP: 2, SH: 3, AF: true, nG: true, Contiguous: false, PXN: true, UXN: true, POIndex: 0 };

describe('str', () => {
  it('accepts descriptors the format holds, at levels that have them', () => {
    expect(invalidOp(str(table, 7, 3, page), mem)).toBeUndefined();
    expect(invalidOp(str(table, 7, 0, tableDesc(0x4000_1000)), mem)).toBeUndefined();
    expect(invalidOp(str(table, 7, 2, { ...page, kind: 'block', OA: 0x4020_0000 }), mem)).toBeUndefined();
  });

  it.each([
    ['AttrIndx', { ...page, AttrIndx: 99 }, /field AttrIndx = 99/],
    ['AP', { ...page, AP: 9 }, /field AP = 9/],
    ['SH', { ...page, SH: 7 }, /field SH = 7/],
    ['a negative OA', { ...page, OA: -123 }, /field OA = -123/],
    ['an OA beyond 48 bits', { ...page, OA: 2 ** 50 }, /field OA/],
    ['a fractional field', { ...page, AP: 1.5 }, /field AP = 1.5/],
    ['a flag that is not a boolean', { ...page, nG: 1 }, /field nG = 1/],
  ])('rejects %s', (_what, desc, pattern) => {
    expect(invalidOp(str(table, 7, 3, desc as Descriptor), mem)).toMatch(pattern);
  });

  it('rejects a block misaligned for its level, and kinds the level has not', () => {
    expect(invalidOp(str(table, 7, 2, { ...page, kind: 'block', OA: 0x4010_0000 }), mem)).toMatch(/field OA/);
    expect(invalidOp(str(table, 7, 3, { ...page, kind: 'block' }), mem)).toMatch(/not a level 3 descriptor \(block\)/);
    expect(invalidOp(str(table, 7, 0, page), mem)).toMatch(/not a level 0 descriptor \(page\)/);
  });
});
