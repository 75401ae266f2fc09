// Tests for Machine/Cpu (machine.ts, cpu.ts): MSR synchronisation, TLBI completion, exceptions, permissions, fills.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { va, vaBig, type VA } from '../va.ts';
import { tableDesc, type Descriptor, type LeafAttrs } from './descriptor.ts';
import { Machine } from './machine.ts';
import { dsb, eret, isb, msr, tlbi, type Op } from './ops.ts';
import { SCTLR_M, TCR_A1, ttbr, type SysReg } from './sysreg.ts';
import { tableIndex } from './walk.ts';

const ATTRS: LeafAttrs = { AttrIndx: 4, NS: false, AP: 0, SH: 3, AF: true, nG: false, Contiguous: false, PXN: false, UXN: false, POIndex: 0 };
const VEC = va('0xffff000008000000'), KDATA = va('0xffff000008100000'), KRO = KDATA + 0x1000;
const UDATA = va('0x400000'), UTEXT = UDATA + 0x1000;
const OA = { VEC: 0x4800_0000, KDATA: 0x4810_0000, KRO: 0x4810_1000, UDATA: 0x4900_0000, UTEXT: 0x4900_1000 };
const SWAPPER = 0x4000_0000, USER_PGD = 0x4000_1000;

/** Two CPUs; TTBR1 = swapper (ASID 0), TTBR0 = user pgd (ASID 1), MMU on unless `regs` says otherwise. */
function setup(regs: Partial<Record<SysReg, bigint>> = {}, asidBits = 8) {
  const mem = new PhysMem<Descriptor>(0x4000_0000, 0x100_0000);
  mem.claim(SWAPPER, 'page-table', 'swapper_pg_dir', true);
  mem.claim(USER_PGD, 'page-table', 'pgd(mm 1)', true);
  const inv = (d: Descriptor) => d.kind === 'invalid';
  const mapPage = (root: number, v: VA, OA: number, over: Partial<LeafAttrs>) => {
    let table = root;
    for (let level = 0; level < 3; level++) {
      const i = tableIndex(v, level);
      let d = mem.readEntry(table, i);
      if (!d) { d = tableDesc(mem.alloc('page-table', `L${level + 1}`, true)); mem.writeEntry(table, i, d, inv); }
      if (d.kind !== 'table') throw new Error('expected a table');
      table = d.NLTA;
    }
    mem.writeEntry(table, tableIndex(v, 3), { kind: 'page', OA, ...ATTRS, ...over }, inv);
  };
  mapPage(SWAPPER, VEC, OA.VEC, { AP: 2, UXN: true });
  mapPage(SWAPPER, KDATA, OA.KDATA, { PXN: true, UXN: true });
  mapPage(SWAPPER, KRO, OA.KRO, { AP: 2, PXN: true, UXN: true });
  mapPage(USER_PGD, UDATA, OA.UDATA, { AP: 1, nG: true, PXN: true, UXN: true });
  mapPage(USER_PGD, UTEXT, OA.UTEXT, { AP: 3, nG: true, PXN: true });
  const init = { TTBR0_EL1: ttbr(USER_PGD, 1), TTBR1_EL1: ttbr(SWAPPER, 0), TCR_EL1: 0n, VBAR_EL1: vaBig(VEC), SCTLR_EL1: SCTLR_M, ...regs };
  const m = new Machine(mem, 2, init, asidBits);
  return { m, c0: m.cpus[0], c1: m.cpus[1], run: (cpu: number, ...ops: Op[]) => ops.map((op) => m.exec(m.cpus[cpu], op)) };
}
const vas = (tlbEntries: readonly { vaBase: VA }[]) => tlbEntries.map((e) => e.vaBase).sort((a, b) => a - b);

describe('system register writes', () => {
  const T0 = ttbr(0x4000_5000, 9);
  it.each<[string, Op[]]>([
    ['isb', [isb()]], ['exception entry', [{ op: 'exception', type: 'sync', reason: 'svc' }]],
  ])('msr is pending (mrs sees it, walks do not) until %s', (_name, sync) => {
    const { m, c0, run } = setup();
    run(0, msr('TTBR0_EL1', T0));
    expect(c0.params.ttbr0).toEqual({ BADDR: USER_PGD, ASID: 1 });
    expect(c0.regs.TTBR0_EL1).toBe(ttbr(USER_PGD, 1));
    expect(run(0, { op: 'mrs', reg: 'TTBR0_EL1' })).toEqual([T0]);
    expect(m.cpus[1].read('TTBR0_EL1')).toBe(ttbr(USER_PGD, 1));
    run(0, ...sync);
    expect(c0.params.ttbr0).toEqual({ BADDR: 0x4000_5000, ASID: 9 });
    expect(c0.pending.size).toBe(0);
  });

  it('eret synchronises a pending msr', () => {
    const { c0, run } = setup();
    run(0, { op: 'exception', type: 'sync', reason: 'svc' }, msr('TTBR0_EL1', T0));
    expect(c0.params.asid).toBe(1);
    run(0, eret());
    expect(c0.params.asid).toBe(9);
  });

  it('takeEffect commits one pending register early (which mod the number pending)', () => {
    const { c0, run } = setup();
    run(0, msr('TTBR0_EL1', T0), msr('TTBR1_EL1', ttbr(SWAPPER, 4)));
    expect(c0.takeEffect(3)).toBe('TTBR1_EL1');
    expect(c0.params.ttbr1.ASID).toBe(4);
    expect(c0.params.ttbr0.ASID).toBe(1);
    expect([...c0.pending.keys()]).toEqual(['TTBR0_EL1']);
    expect(c0.takeEffect(0)).toBe('TTBR0_EL1');
    expect(c0.params.asid).toBe(9);
    expect(c0.takeEffect(0)).toBeUndefined();
  });
});

describe('TLBI completion', () => {
  /** Both CPUs hold KDATA, KRO and UDATA. */
  const filled = () => {
    const s = setup();
    for (const c of s.m.cpus) for (const v of [KDATA, KRO, UDATA]) s.m.speculate(c, v);
    return s;
  };

  it('a broadcast TLBI reaches the other CPU only when the issuer executes dsb ish', () => {
    const { m, c0, c1, run } = filled();
    run(0, tlbi('VAAE1', true, { va: KDATA }));
    expect(vas(c1.tlb.entries())).toEqual([UDATA, KDATA, KRO]);
    run(1, dsb('ish')); // not the issuer
    expect(vas(c1.tlb.entries())).toEqual([UDATA, KDATA, KRO]);
    expect(m.pendingTlbi).toHaveLength(2);
    run(0, dsb('ish'));
    expect(vas(c0.tlb.entries())).toEqual([UDATA, KRO]);
    expect(vas(c1.tlb.entries())).toEqual([UDATA, KRO]);
    expect(m.pendingTlbi).toEqual([]);
  });

  it('Machine.land completes a pending TLBI on one CPU only', () => {
    const { m, c0, c1, run } = filled();
    run(0, tlbi('ASIDE1', true, { asid: 1 }));
    expect(m.land(c1)).toBe(true);
    expect(vas(c1.tlb.entries())).toEqual([KDATA, KRO]);
    expect(vas(c0.tlb.entries())).toEqual([UDATA, KDATA, KRO]);
    expect(m.pendingTlbi.map((p) => p.target)).toEqual([0]);
    expect(m.land(c1)).toBe(false);
  });

  it('dsb ishst does not complete TLB maintenance', () => {
    const { m, c1, run } = filled();
    run(0, tlbi('VMALLE1', true), dsb('ishst'));
    expect(m.pendingTlbi).toHaveLength(2);
    expect(c1.tlb.size).toBe(3);
  });

  it('dsb nsh completes only the issuer\'s local (non-IS) TLBIs', () => {
    const { m, c0, c1, run } = filled();
    run(0, tlbi('VAAE1', false, { va: KDATA }), tlbi('VAAE1', true, { va: KRO }), dsb('nsh'));
    expect(vas(c0.tlb.entries())).toEqual([UDATA, KRO]);
    expect(vas(c1.tlb.entries())).toEqual([UDATA, KDATA, KRO]);
    expect(m.pendingTlbi.map((p) => [p.target, p.op.va])).toEqual([[0, KRO], [1, KRO]]);
  });

  it('a TLBI does not remove entries filled after it was issued', () => {
    const { m, c0, run } = setup();
    m.speculate(c0, KDATA);
    run(0, tlbi('VMALLE1', false));
    m.speculate(c0, KRO);
    run(0, dsb('sy'));
    expect(vas(c0.tlb.entries())).toEqual([KRO]);
  });
});

describe('exceptions', () => {
  it.each<[0 | 1, 'sync' | 'irq', number]>([[0, 'sync', 0x400], [0, 'irq', 0x480], [1, 'sync', 0x200], [1, 'irq', 0x280]])(
    'from EL%i, %s fetches VBAR_EL1+%i at EL1 with IRQs masked; eret restores', (el, type, offset) => {
      const { m, c0, run } = setup();
      c0.EL = el; c0.I = false;
      expect(run(0, { op: 'exception', type, reason: 'test' })).toEqual([{ pa: OA.VEC }]);
      expect(m.effects.at(-1)).toMatchObject({ kind: 'access', access: 'fetch', el: 1, va: VEC + offset });
      expect([c0.EL, c0.I, c0.saved]).toEqual([1, true, [{ EL: el, I: false }]]);
      run(0, eret());
      expect([c0.EL, c0.I, c0.saved]).toEqual([el, false, []]);
    });
});

describe('permission checks', () => {
  it.each<[string, 0 | 1, Op, object]>([
    ['EL0 load of a kernel page', 0, { op: 'user', kind: 'load', va: KDATA }, { fault: 'permission' }],
    ['ldtr of a kernel page', 1, { op: 'access', kind: 'ldtr', va: KDATA, sym: 'k' }, { fault: 'permission' }],
    ['EL1 load of a kernel page', 1, { op: 'access', kind: 'ldr', va: KDATA, sym: 'k' }, { pa: OA.KDATA }],
    ['EL1 store to a read-only page', 1, { op: 'access', kind: 'str', va: KRO, sym: 'k' }, { fault: 'permission' }],
    ['EL1 load of a read-only page', 1, { op: 'access', kind: 'ldr', va: KRO, sym: 'k' }, { pa: OA.KRO }],
    ['EL0 store to a read-only user page', 0, { op: 'user', kind: 'store', va: UTEXT }, { fault: 'permission' }],
    ['EL0 store to a user RW page', 0, { op: 'user', kind: 'store', va: UDATA }, { pa: OA.UDATA }],
    ['EL1 fetch from a PXN page', 1, { op: 'access', kind: 'fetch', va: KDATA, sym: 'k' }, { fault: 'permission' }],
    ['EL1 fetch from an executable kernel page', 1, { op: 'access', kind: 'fetch', va: VEC, sym: 'k' }, { pa: OA.VEC }],
    ['EL0 fetch from a UXN page', 0, { op: 'access', kind: 'fetch', va: UDATA, sym: 'u' }, { fault: 'permission' }],
    ['EL0 fetch from a PXN-only user page', 0, { op: 'access', kind: 'fetch', va: UTEXT, sym: 'u' }, { pa: OA.UTEXT }],
    ['an unmapped VA', 1, { op: 'access', kind: 'ldr', va: KDATA + 0x10_0000, sym: 'k' }, { fault: 'translation' }],
  ])('%s', (_name, el, op, result) => {
    const { c0, run } = setup();
    c0.EL = el;
    expect(run(0, op)).toEqual([result]);
    expect(run(0, op)).toEqual([result]); // the same outcome from the TLB entry the first access filled
  });
});

describe('TLB fills', () => {
  it('tags a speculative nG fill with TTBR0\'s ASID, or TTBR1\'s when TCR_EL1.A1 is set', () => {
    const a = setup({ TTBR0_EL1: ttbr(USER_PGD, 5), TTBR1_EL1: ttbr(SWAPPER, 7) });
    a.m.speculate(a.c0, UDATA);
    expect(a.c0.tlb.entries().map((e) => [e.asid, e.oa, e.owner])).toEqual([[5, OA.UDATA, 'pgd(mm 1)']]);
    expect(a.m.effects.filter((e) => e.kind === 'fill')).toMatchObject([{ kind: 'fill', cpu: 0, speculative: true, conflicts: [] }]);
    const b = setup({ TTBR0_EL1: ttbr(USER_PGD, 5), TTBR1_EL1: ttbr(SWAPPER, 7), TCR_EL1: TCR_A1 });
    b.m.speculate(b.c0, UDATA);
    expect(b.c0.tlb.entries().map((e) => e.asid)).toEqual([7]);
  });

  it('leaves a global leaf untagged', () => {
    const { m, c0 } = setup({ TCR_EL1: TCR_A1 });
    m.speculate(c0, KDATA);
    expect(c0.tlb.entries().map((e) => [e.asid, e.oa, e.owner])).toEqual([[undefined, OA.KDATA, 'swapper_pg_dir']]);
    expect(c0.tlb.lookup(KDATA, 200)).toHaveLength(1);
  });

  it('fills nothing with the MMU off, and accesses are flat-mapped', () => {
    const { m, c0, run } = setup({ SCTLR_EL1: 0n });
    m.speculate(c0, UDATA);
    expect(run(0, { op: 'access', kind: 'ldr', va: 0x4810_0000, sym: 'phys' })).toEqual([{ pa: 0x4810_0000 }]);
    expect(c0.tlb.size).toBe(0);
    expect(m.effects.filter((e) => e.kind === 'fill')).toEqual([]);
  });

  it('masks ASIDs wider than asidBits, in TTBRs and in TLBI operands', () => {
    const { m, c0, run } = setup({ TTBR0_EL1: ttbr(USER_PGD, 0x13) }, 4);
    expect(c0.params.asid).toBe(3);
    m.speculate(c0, UDATA);
    expect(c0.tlb.entries().map((e) => e.asid)).toEqual([3]);
    run(0, tlbi('ASIDE1', false, { asid: 0x23 }));
    expect(m.pendingTlbi.map((p) => p.op.asid)).toEqual([3]);
    run(0, dsb('nsh'));
    expect(c0.tlb.size).toBe(0);
  });
});

describe('page-table store visibility to walkers (stores.ts)', () => {
  /** The level-3 table that maps `v` from `root`. */
  const l3Of = (m: Machine, root: number, v: VA): number => {
    let t = root;
    for (let level = 0; level < 3; level++) t = (m.mem.readEntry(t, tableIndex(v, level)) as { NLTA: number }).NLTA;
    return t;
  };
  const fillTag = (m: Machine, cpu: number): number | undefined => {
    m.cpus[cpu].tlb.invalidate(() => true, Infinity);
    m.speculate(m.cpus[cpu], KDATA);
    return m.cpus[cpu].tlb.entries()[0]?.asid;
  };

  it('dsb nshst publishes a store to the storing PE\'s walker only; dsb ishst to every PE\'s', () => {
    const { m, run } = setup({ TTBR1_EL1: ttbr(SWAPPER, 5), TCR_EL1: TCR_A1 });
    const ng: Descriptor = { kind: 'page', OA: OA.KDATA, ...ATTRS, PXN: true, UXN: true, nG: true };
    run(0, { op: 'str', table: l3Of(m, SWAPPER, KDATA), index: tableIndex(KDATA, 3), level: 3, desc: ng });
    expect([fillTag(m, 0), fillTag(m, 1)]).toEqual([undefined, undefined]); // not yet visible: the old global entry
    run(0, dsb('nshst'));
    expect([fillTag(m, 0), fillTag(m, 1)]).toEqual([5, undefined]);
    expect(m.readDesc(l3Of(m, SWAPPER, KDATA), tableIndex(KDATA, 3))).toMatchObject({ nG: false }); // what every walker sees
    run(0, dsb('ishst'));
    expect([fillTag(m, 0), fillTag(m, 1)]).toEqual([5, 5]);
  });
});
