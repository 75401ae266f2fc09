// Tests for X86Machine/X86Cpu (machine.ts, cpu.ts): PCID tagging, global pages, every invalidation rule of SDM §4.10.4.1, exceptions, permissions.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { va, type VA } from '../va.ts';
import { cr3, CR3_NOFLUSH, type Cr4 } from './cr.ts';
import { X86Machine } from './machine.ts';
import { invlpg, invpcid, iret, movCr3, movCr4, str, type X86Op } from './ops.ts';
import { kernpgTable, pageTable, type Entry, type Leaf } from './pte.ts';
import { tableIndex } from './walk.ts';

const F = { RW: false, US: false, PWT: false, PCD: false, A: true, D: true, G: false, NX: false };
const KDATA = va('0xffff888000100000'), KTEXT = va('0xffffffff81c00000'), KRO = KDATA + 0x1000;
const UDATA = va('0x0000000000400000'), UTEXT = UDATA + 0x1000;
const PA = { KDATA: 0x200_0000, KTEXT: 0x100_0000, KRO: 0x200_1000, UDATA_A: 0x300_0000, UDATA_B: 0x400_0000, UTEXT: 0x300_1000 };
const PGD_A = 0x10_0000, PGD_B = 0x10_1000;
const ON: Cr4 = { PCIDE: true, PGE: true };

/** Two CPUs on pgd(mm 1) with PCID 1, CR4.PCIDE = PGE = 1. mm 2 maps UDATA elsewhere; KTEXT is a global 2 MiB page. */
function setup(cr4: Cr4 = ON, pcid = 1) {
  const mem = new PhysMem<Entry>(0x10_0000, 0x100_0000, (e) => e.kind === 'table');
  mem.claim(PGD_A, 'page-table', 'pgd(mm 1)', true);
  mem.claim(PGD_B, 'page-table', 'pgd(mm 2)', true);
  const inv = (e: Entry) => e.kind === 'invalid';
  const map = (root: number, v: VA, level: number, leaf: Partial<Leaf> & { addr: number }) => {
    let table = root;
    for (let l = 0; l < level; l++) {
      let e = mem.readEntry(table, tableIndex(v, l));
      if (!e) { e = (v < 2 ** 47 ? pageTable : kernpgTable)(mem.alloc('page-table', `L${l + 1}`, true)); mem.writeEntry(table, tableIndex(v, l), e, inv); }
      if (e.kind !== 'table') throw new Error('expected a table');
      table = e.addr;
    }
    mem.writeEntry(table, tableIndex(v, level), { kind: level === 3 ? 'page' : 'large', ...F, ...leaf }, inv);
  };
  map(PGD_A, KDATA, 3, { addr: PA.KDATA, RW: true, NX: true });
  map(PGD_A, KRO, 3, { addr: PA.KRO, NX: true });
  map(PGD_A, KTEXT, 2, { addr: PA.KTEXT, G: true });
  mem.writeEntry(PGD_B, 511, mem.readEntry(PGD_A, 511)!, inv); // the kernel half is shared
  mem.writeEntry(PGD_B, 273, mem.readEntry(PGD_A, 273)!, inv);
  map(PGD_A, UDATA, 3, { addr: PA.UDATA_A, US: true, RW: true, NX: true });
  map(PGD_A, UTEXT, 3, { addr: PA.UTEXT, US: true });
  map(PGD_B, UDATA, 3, { addr: PA.UDATA_B, US: true, RW: true, NX: true });
  const m = new X86Machine(mem, 2, { cr3: cr3(PGD_A, cr4.PCIDE ? pcid : 0), cr4 });
  const c0 = m.cpus[0];
  return { m, c0, mem, run: (...ops: X86Op[]) => ops.map((op) => m.exec(c0, op)) };
}
/** The (vaBase, pcid, global) of every entry, sorted. */
const tlbOf = (m: X86Machine, cpu = 0) =>
  m.cpus[cpu].tlb.entries().map((e) => [e.vaBase, e.pcid, e.global] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

/** CPU 0 holds KDATA, KTEXT and UDATA under PCID 1, then UDATA (mm 2) and KDATA under PCID 2; PCID 2 is current. */
function twoPcids() {
  const s = setup();
  for (const v of [KDATA, KTEXT, UDATA]) s.m.speculate(s.c0, v);
  s.run(movCr3(cr3(PGD_B, 2, true)));
  for (const v of [UDATA, KDATA]) s.m.speculate(s.c0, v);
  return s;
}

describe('TLB fills (SDM §4.10.1, §4.10.2.4)', () => {
  it('tags a fill with CR3[11:0] when CR4.PCIDE = 1', () => {
    const { m, c0 } = setup(ON, 0x805);
    m.speculate(c0, UDATA);
    expect(c0.tlb.entries()).toMatchObject([{ pcid: 0x805, global: false, pa: PA.UDATA_A, owner: 'pgd(mm 1)', root: PGD_A, level: 3 }]);
    expect(m.effects).toMatchObject([{ kind: 'fill', cpu: 0, speculative: true, entry: { vaBase: UDATA } }]);
  });

  it('tags with PCID 0 when CR4.PCIDE = 0, whatever CR3[11:0] holds (PWT/PCD there)', () => {
    const { m, c0, run } = setup({ PCIDE: false, PGE: true });
    run(movCr3(cr3(PGD_A, 0x18)));
    m.speculate(c0, UDATA);
    expect([c0.pcid, c0.tlb.entries()[0].pcid]).toEqual([0, 0]);
  });

  it('makes an entry global only for G = 1 with CR4.PGE = 1', () => {
    const a = setup();
    for (const v of [KTEXT, KDATA]) a.m.speculate(a.c0, v);
    expect(tlbOf(a.m)).toEqual([[KDATA, 1, false], [KTEXT, 1, true]]);
    const b = setup({ PCIDE: true, PGE: false });
    b.m.speculate(b.c0, KTEXT);
    expect(tlbOf(b.m)).toEqual([[KTEXT, 1, false]]);
  });

  it('records the leaf\'s table entry and frame epoch, and caches no not-present walk', () => {
    const { m, c0, mem, run } = setup();
    expect(run({ op: 'access', kind: 'ldr', va: KDATA + 0x20_0000, sym: 'hole' })).toEqual([{ fault: 'translation' }]);
    expect(c0.tlb.size).toBe(0);
    run({ op: 'access', kind: 'ldr', va: KTEXT + 0x1234, sym: 'text' });
    const e = c0.tlb.entries()[0];
    expect(e).toMatchObject({ vaBase: KTEXT, level: 2, pa: PA.KTEXT, from: { index: tableIndex(KTEXT, 2), level: 2, epoch: mem.frame(e.from.table)!.epoch } });
    expect(m.effects.filter((x) => x.kind === 'fill')).toMatchObject([{ speculative: false }]);
  });

  it('lets a global entry translate under another PCID', () => {
    const { m, c0, run } = setup();
    m.speculate(c0, KTEXT);
    run(movCr3(cr3(PGD_B, 2)));
    expect(run({ op: 'access', kind: 'fetch', va: KTEXT, sym: 'entry_SYSCALL_64' })).toEqual([{ pa: PA.KTEXT }]);
    expect(m.effects.at(-1)).toMatchObject({ kind: 'access', el: 1, outcomes: [{ via: 'TLB entry global (filled under pcid=1) from pgd(mm 1)' }] });
    expect(c0.tlb.size).toBe(1);
  });
});

describe('MOV to CR3 (SDM §4.10.4.1)', () => {
  it('with PCIDE = 0 invalidates every non-global entry and keeps globals', () => {
    const { m, c0, run } = setup({ PCIDE: false, PGE: true });
    for (const v of [KDATA, KTEXT, UDATA]) m.speculate(c0, v);
    run(movCr3(cr3(PGD_B, 0)));
    expect(tlbOf(m)).toEqual([[KTEXT, 0, true]]);
    expect(c0.root).toBe(PGD_B);
  });

  it('with PCIDE = 1 and bit 63 clear invalidates only the new PCID\'s non-global entries', () => {
    const { m, run } = twoPcids();
    run(movCr3(cr3(PGD_A, 1)));
    expect(tlbOf(m)).toEqual([[UDATA, 2, false], [KDATA, 2, false], [KTEXT, 1, true]]);
  });

  it('with bit 63 set invalidates nothing, and bit 63 is not stored', () => {
    const { m, c0, run } = twoPcids();
    const before = tlbOf(m);
    expect(run(movCr3(cr3(PGD_A, 1, true)), { op: 'read-cr3' })).toEqual([undefined, cr3(PGD_A, 1)]);
    expect(tlbOf(m)).toEqual(before);
    expect(c0.cr3 & CR3_NOFLUSH).toBe(0n);
    expect([c0.root, c0.pcid]).toEqual([PGD_A, 1]);
  });
});

describe('MOV to CR4 (SDM §4.10.4.1; the rules in invalidate.test.ts)', () => {
  it('changing PGE or clearing PCIDE empties the TLB, globals and every PCID included', () => {
    for (const cr4 of [{ PCIDE: true, PGE: false }, { PCIDE: false, PGE: true }]) {
      const { c0, run } = twoPcids();
      run(movCr4(ON));
      expect(c0.tlb.size).toBe(5);
      run(movCr4(cr4));
      expect([c0.tlb.size, c0.cr4, c0.pcid]).toEqual([0, cr4, cr4.PCIDE ? 2 : 0]);
    }
  });

  it('setting PCIDE keeps the TLB, and is a #GP unless CR3[11:0] = 0', () => {
    const { m, c0, run } = setup({ PCIDE: false, PGE: true });
    m.speculate(c0, KDATA);
    run(movCr4(ON));
    expect(tlbOf(m)).toEqual([[KDATA, 0, false]]);
    const b = setup({ PCIDE: false, PGE: true });
    b.run(movCr3(cr3(PGD_A, 8)));
    expect(() => b.run(movCr4(ON))).toThrow(/#GP/);
  });
});

describe('INVLPG and INVPCID (SDM §4.10.4.1; the rules in invalidate.test.ts)', () => {
  it('INVLPG removes the page in the current PCID and global entries for it, filled under any PCID', () => {
    const { m, run } = twoPcids();
    run(invlpg(UDATA + 0x10), invlpg(KTEXT + 0x1_2345));
    expect(tlbOf(m)).toEqual([[UDATA, 1, false], [KDATA, 1, false], [KDATA, 2, false]]);
  });

  it('INVPCID acts on the descriptor\'s PCID, not the current one', () => {
    const { m, run } = twoPcids();
    run(invpcid(0, 1, UDATA), invpcid(1, 1));
    expect(tlbOf(m)).toEqual([[UDATA, 2, false], [KDATA, 2, false], [KTEXT, 1, true]]);
    run(invpcid(3, 0));
    expect(tlbOf(m)).toEqual([[KTEXT, 1, true]]);
    run(invpcid(2, 0));
    expect(tlbOf(m)).toEqual([]);
    expect(() => run(invpcid(1, 0x1000))).toThrow(/#GP/);
  });
});

describe('permission checks (SDM §4.6)', () => {
  it.each<[string, X86Op, object, 0 | 1]>([
    ['user load of a kernel page', { op: 'user', kind: 'load', va: KDATA }, { fault: 'permission' }, 0],
    ['user store to a user RW page', { op: 'user', kind: 'store', va: UDATA }, { pa: PA.UDATA_A }, 0],
    ['user store to a read-only user page', { op: 'user', kind: 'store', va: UTEXT }, { fault: 'permission' }, 0],
    ['kernel store to a read-only page (CR0.WP = 1)', { op: 'access', kind: 'str', va: KRO, sym: 'k' }, { fault: 'permission' }, 1],
    ['kernel load of a user page (no SMAP)', { op: 'access', kind: 'ldr', va: UDATA, sym: 'u' }, { pa: PA.UDATA_A }, 1],
    ['kernel fetch from an XD page', { op: 'access', kind: 'fetch', va: KDATA, sym: 'k' }, { fault: 'permission' }, 1],
    ['kernel fetch from a user page (no SMEP)', { op: 'access', kind: 'fetch', va: UTEXT, sym: 'u' }, { pa: PA.UTEXT }, 1],
    ['ldtr of a kernel page', { op: 'access', kind: 'ldtr', va: KRO, sym: 'k' }, { fault: 'permission' }, 0],
    ['sttr to a read-only user page', { op: 'access', kind: 'sttr', va: UTEXT, sym: 'u' }, { fault: 'permission' }, 0],
    ['an unmapped VA', { op: 'user', kind: 'load', va: UDATA + 0x10_0000 }, { fault: 'translation' }, 0],
  ])('%s', (_name, op, result, el) => {
    const { m, run } = setup();
    expect(run(op)).toEqual([result]);
    expect(run(op)).toEqual([result]); // the same from the TLB entry the first access filled
    expect(m.effects.at(-1)).toMatchObject({ kind: 'access', el });
  });

  it('reports every hitting entry, and a conflict when their frames differ', () => {
    const { m, c0, mem, run } = setup();
    run({ op: 'user', kind: 'load', va: UDATA });
    const pt = c0.tlb.entries()[0].from.table;
    run(str(pt, tableIndex(UDATA, 3), 3, { ...mem.readEntry(pt, tableIndex(UDATA, 3)) as Leaf, addr: PA.UDATA_B }));
    expect(m.effects.at(-1)).toMatchObject({ kind: 'store', level: 3, old: { addr: PA.UDATA_A }, desc: { addr: PA.UDATA_B } });
    expect(run({ op: 'user', kind: 'load', va: UDATA })).toEqual([{ pa: PA.UDATA_A }]); // stale, no flush
    m.speculate(c0, UDATA);
    expect(run({ op: 'user', kind: 'load', va: UDATA })).toEqual([{ fault: 'tlb-conflict' }]);
    expect(m.effects.at(-1)).toMatchObject({ outcomes: [{ pa: PA.UDATA_A }, { pa: PA.UDATA_B }] });
  });
});

it('clones independently', () => {
  const { m, c0 } = setup();
  m.speculate(c0, KDATA);
  m.exec(c0, { op: 'exception', type: 'irq', reason: 'timer' });
  const c = m.clone();
  c.exec(c.cpus[0], invpcid(2, 0));
  c.exec(c.cpus[0], iret());
  expect([c0.tlb.size, c.cpus[0].tlb.size, c0.saved.length, c.cpus[0].saved.length, c.seq, c.cpus.length]).toEqual([1, 0, 1, 0, m.seq, 2]);
  expect(c.mem).not.toBe(m.mem);
});
