// Edge cases of the architecture rules: descriptors at a level where their
// kind cannot occur, the access flag, refills after a TLBI, and EL0-writable
// memory being privileged execute-never.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { decode, encode, tableDesc, type Descriptor, type LeafAttrs, type Page } from './descriptor.ts';
import { Machine } from './machine.ts';
import { dsb, tlbi } from './ops.ts';
import { SCTLR_M, ttbr } from './sysreg.ts';
import { Tlb, type TlbEntry } from './tlb.ts';
import { walkFrom, type ReadDesc } from './walk.ts';

const ATTRS: LeafAttrs = { AttrIndx: 4, NS: false, AP: 0, SH: 3, AF: true, nG: true, Contiguous: false, PXN: false, UXN: false, POIndex: 0 };
const page = (OA: number, over: Partial<LeafAttrs> = {}): Page => ({ kind: 'page', OA, ...ATTRS, ...over });
/** Tables keyed "table:index"; everything else invalid. */
const tables = (entries: Record<string, Descriptor>): ReadDesc => (t, i) => entries[`${t}:${i}`] ?? { kind: 'invalid' };

describe('walk: reserved placements and the access flag', () => {
  it('reads a page stored at level 2 as the table descriptor its bits encode (D8.3)', () => {
    const misplaced = page(0x5000);
    const read = tables({ '1:0': tableDesc(2), '2:0': tableDesc(3), '3:0': misplaced, '20480:0': page(0x9000) });
    const w = walkFrom(read, 1, 0, 0);
    expect(decode(encode(misplaced), 2).kind).toBe('table');
    expect(w).toMatchObject({ kind: 'ok', pa: 0x9000, level: 3 });
  });

  it('reads a table descriptor at level 3 as a page with AF clear: an Access flag fault, not a throw', () => {
    const read = tables({ '1:0': tableDesc(2), '2:0': tableDesc(3), '3:0': tableDesc(4), '4:0': tableDesc(0x6000) });
    expect(decode(encode(tableDesc(0x6000)), 3)).toMatchObject({ kind: 'page', OA: 0x6000, AF: false });
    expect(walkFrom(read, 1, 0, 0)).toMatchObject({ kind: 'fault', statuscode: 'access-flag', level: 3 });
  });

  it('faults a block at level 0 (reserved with a 4 KiB granule)', () => {
    const read = tables({ '1:0': { kind: 'block', OA: 0, ...ATTRS } });
    expect(walkFrom(read, 1, 0, 0)).toMatchObject({ kind: 'fault', statuscode: 'translation', level: 0 });
  });

  it('gives an Access flag fault for a leaf with AF clear (R_XCLRD)', () => {
    const read = tables({ '1:0': tableDesc(2), '2:0': tableDesc(3), '3:0': tableDesc(4), '4:0': page(0x7000, { AF: false }) });
    expect(walkFrom(read, 1, 0, 0)).toMatchObject({ kind: 'fault', statuscode: 'access-flag', level: 3 });
  });
});

describe('TLB refills', () => {
  const entry = (seq: number): TlbEntry => ({
    vaBase: 0, level: 3, oa: 0x7000, asid: 1, leaf: page(0x7000), perms: { el0: false, write: true, uxn: false, pxn: false },
    root: 1, owner: 'pgd', from: { table: 4, index: 0, level: 3 }, seq,
  });

  it('an identical refill after a TLBI counts as filled after it, and survives it', () => {
    const t = new Tlb();
    t.insert(entry(1));
    t.insert(entry(3));
    expect(t.size).toBe(1);
    expect(t.invalidate(() => true, 2)).toBe(0);
    expect(t.entries()[0].seq).toBe(3);
  });

  it('on the machine: fill, TLBI, identical refill, DSB leaves the refilled entry', () => {
    const mem = new PhysMem<Descriptor>(0x4000_0000, 0x10_0000);
    const pgd = mem.claim(0x4000_0000, 'page-table', 'pgd(mm 1)', true);
    const inv = (d: Descriptor) => d.kind === 'invalid';
    mem.writeEntry(pgd, 0, tableDesc(mem.alloc('page-table', 'L1', true)), inv);
    const l1 = (mem.readEntry(pgd, 0) as { NLTA: number }).NLTA;
    mem.writeEntry(l1, 0, tableDesc(mem.alloc('page-table', 'L2', true)), inv);
    const l2 = (mem.readEntry(l1, 0) as { NLTA: number }).NLTA;
    mem.writeEntry(l2, 0, tableDesc(mem.alloc('page-table', 'L3', true)), inv);
    const l3 = (mem.readEntry(l2, 0) as { NLTA: number }).NLTA;
    mem.writeEntry(l3, 0, page(0x4008_0000, { AP: 1 }), inv);
    const m = new Machine(mem, 2, { TTBR0_EL1: ttbr(pgd, 1), TTBR1_EL1: 0n, TCR_EL1: 0n, VBAR_EL1: 0n, SCTLR_EL1: SCTLR_M }, 8);
    const c = m.cpus[0];
    m.speculate(c, 0);
    m.exec(c, tlbi('ASIDE1', false, { asid: 1 }));
    m.speculate(c, 0);
    m.exec(c, dsb('nsh'));
    expect(c.tlb.size).toBe(1);
  });
});

describe('instruction access permissions', () => {
  it('an EL1 fetch from memory writable at EL0 is a permission fault even with PXN clear', () => {
    const mem = new PhysMem<Descriptor>(0x4000_0000, 0x10_0000);
    const pgd = mem.claim(0x4000_0000, 'page-table', 'pgd(mm 1)', true);
    const inv = (d: Descriptor) => d.kind === 'invalid';
    let t = pgd;
    for (let l = 0; l < 3; l++) { const n = mem.alloc('page-table', `L${l + 1}`, true); mem.writeEntry(t, 0, tableDesc(n), inv); t = n; }
    mem.writeEntry(t, 0, page(0x4008_0000, { AP: 1, PXN: false }), inv);
    mem.writeEntry(t, 1, page(0x4008_1000, { AP: 3, PXN: false }), inv);
    const m = new Machine(mem, 2, { TTBR0_EL1: ttbr(pgd, 1), TTBR1_EL1: 0n, TCR_EL1: 0n, VBAR_EL1: 0n, SCTLR_EL1: SCTLR_M }, 8);
    expect(m.kernelAccess(m.cpus[0], 'fetch', 0, 'u')).toEqual({ fault: 'permission' });
    expect(m.kernelAccess(m.cpus[0], 'fetch', 0x1000, 'u')).toEqual({ pa: 0x4008_1000 });
  });
});
