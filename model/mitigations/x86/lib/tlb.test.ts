// ASID slots and the mm switch of arch/x86/mm/tlb.c (4.15; docs/sources/
// x86-pti.md §5): `choose_new_asid`, `build_cr3`, `load_new_mm_cr3`,
// `switch_mm_irqs_off`. Six slots; slot 0 starts as init_mm's (ctx_id 1).
import { describe, expect, it } from 'vitest';
import { CR3_NOFLUSH } from '../../../arch/x86/cpu.ts';
import { movCr3, type X86Op } from '../../../arch/x86/ops.ts';
import type { Mm } from '../../../kernel/task.ts';
import { DEFAULT_OPTIONS, X86Kernel } from '../../../kernel/x86/kernel.ts';
import { TlbState } from '../../../kernel/x86/tlbstate.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx } from '../types.ts';
import { buildCr3, chooseNewAsid, loadNewMmCr3, switchMmIrqsOff } from './tlb.ts';

const NF = CR3_NOFLUSH;
const PGD_A = 0x1234000, PGD_B = 0x1236000;
const base = new X86Kernel(ptiPcid, DEFAULT_OPTIONS).ctx(0), sym = base.sym;

/** A context as X86Kernel.ctx builds it (on an unbooted kernel), with the configuration under test, its own mm_cpumasks and a reuse count. */
function ctx(pcid = true, pti = true) {
  const masks = new Map<Mm, Set<number>>();
  const reused = { n: 0 };
  const c: X86Ctx = {
    ...base, pti, opts: { ...DEFAULT_OPTIONS, pcid }, tlbstate: new TlbState(),
    cpumask: (mm) => { let s = masks.get(mm); if (!s) masks.set(mm, (s = new Set())); return s; },
    asidReused: () => { reused.n++; },
  };
  return { c, ts: c.tlbstate, reused };
}
const mm = (id: number, pgd: number, ctxId: number, tlbGen = 0): Mm => ({ id, pgd, contextId: 0, ctxId, tlbGen, users: 1, pages: new Map(), tables: [] });
const cr3Writes = (ops: X86Op[]): bigint[] => ops.flatMap((op) => (op.op === 'mov-cr3' ? [op.value] : []));

describe('choose_new_asid', () => {
  it('allocates slots round-robin from next_asid 1, wrapping to 0, each with a flush', () => {
    const { c, ts, reused } = ctx();
    const picks = [10, 11, 12, 13, 14, 15, 16].map((id) => chooseNewAsid(c, id, 0));
    expect(picks.map((p) => p.asid)).toEqual([1, 2, 3, 4, 5, 0, 1]);
    expect(picks.every((p) => p.needFlush)).toBe(true);
    expect(ts.next_asid).toBe(2);
    expect(reused.n).toBe(1); // only slot 0 held another mm (init_mm)
  });

  it('reuses the slot whose ctx_id matches, flushing only when its tlb_gen is behind', () => {
    const { c, ts } = ctx();
    ts.ctxs[3] = { ctx_id: 42, tlb_gen: 5 };
    expect(chooseNewAsid(c, 42, 5)).toEqual({ asid: 3, needFlush: false });
    expect(chooseNewAsid(c, 42, 6)).toEqual({ asid: 3, needFlush: true });
    expect(ts.next_asid).toBe(1);
  });

  it('with invalidate_other, first forgets every slot but the loaded one (clear_asid_other)', () => {
    const { c, ts } = ctx();
    ts.loaded_mm_asid = 2;
    ts.ctxs[2] = { ctx_id: 7, tlb_gen: 0 };
    ts.ctxs[3] = { ctx_id: 8, tlb_gen: 0 };
    ts.invalidate_other = true;
    expect(chooseNewAsid(c, 8, 0)).toEqual({ asid: 1, needFlush: true });
    expect(ts.ctxs.map((x) => x.ctx_id)).toEqual([0, 0, 7, 0, 0, 0]);
    expect(ts.invalidate_other).toBe(false);
    expect(chooseNewAsid(c, 7, 0)).toEqual({ asid: 2, needFlush: false });
  });

  it('without PCID: ASID 0 and a flush, whatever the slots hold', () => {
    const { c, ts } = ctx(false);
    ts.ctxs[3] = { ctx_id: 42, tlb_gen: 5 };
    ts.invalidate_other = true;
    expect(chooseNewAsid(c, 42, 5)).toEqual({ asid: 0, needFlush: true });
    expect(ts.ctxs[3].ctx_id).toBe(42);
    expect(ts.next_asid).toBe(1);
  });
});

describe('build_cr3', () => {
  it('with PCID: pgd | kPCID (ASID + 1), and bit 63 for build_cr3_noflush', () => {
    const { c } = ctx();
    expect(buildCr3(c, PGD_A, 0)).toBe(0x1234001n);
    expect(buildCr3(c, PGD_A, 2)).toBe(0x1234003n);
    expect(buildCr3(c, PGD_A, 2, true)).toBe(0x8000000001234003n);
  });

  it('without PCID: the pgd alone, never NOFLUSH', () => {
    const { c } = ctx(false);
    expect(buildCr3(c, PGD_A, 0)).toBe(0x1234000n);
    expect(buildCr3(c, PGD_A, 0, true)).toBe(0x1234000n);
  });
});

describe('load_new_mm_cr3', () => {
  it('a flush writes CR3 without NOFLUSH and defers the user PCID flush (invalidate_user_asid)', () => {
    const { c, ts } = ctx();
    expect(cr3Writes([...loadNewMmCr3(c, PGD_A, 4, true)])).toEqual([0x1234005n]);
    expect(ts.user_pcid_flush_mask).toBe(1 << 5);
  });

  it('no flush writes build_cr3_noflush and marks nothing', () => {
    const { c, ts } = ctx();
    expect([...loadNewMmCr3(c, PGD_A, 4, false)]).toEqual([movCr3(0x1234005n | NF)]);
    expect(ts.user_pcid_flush_mask).toBe(0);
  });

  it('without PTI there is no user PCID to mark', () => {
    const { c, ts } = ctx(true, false);
    expect([...loadNewMmCr3(c, PGD_A, 4, true)]).toEqual([movCr3(0x1234005n)]);
    expect(ts.user_pcid_flush_mask).toBe(0);
  });
});

describe('switch_mm_irqs_off', () => {
  it('moves the CPU between mm_cpumasks, claims a new slot with a flush, then returns NOFLUSH to an up-to-date slot', () => {
    const { c, ts } = ctx();
    const a = mm(1, PGD_A, 2), b = mm(2, PGD_B, 3, 7);
    expect(cr3Writes([...switchMmIrqsOff(c, a, undefined)])).toEqual([0x1234002n]);
    expect([ts.loaded_mm, ts.loaded_mm_asid, ts.ctxs[1]]).toEqual([a, 1, { ctx_id: 2, tlb_gen: 0 }]);
    expect(cr3Writes([...switchMmIrqsOff(c, b, undefined)])).toEqual([0x1236003n]);
    expect(ts.ctxs[2]).toEqual({ ctx_id: 3, tlb_gen: 7 });
    expect([[...c.cpumask(a)], [...c.cpumask(b)]]).toEqual([[], [0]]);
    expect(ts.user_pcid_flush_mask).toBe((1 << 2) | (1 << 3));
    expect(cr3Writes([...switchMmIrqsOff(c, a, undefined)])).toEqual([0x1234002n | NF]);
    expect([ts.loaded_mm, ts.loaded_mm_asid, [...c.cpumask(a)], [...c.cpumask(b)]]).toEqual([a, 1, [0], []]);
  });

  it('a slot left behind by a flush is flushed and caught up on the way back', () => {
    const { c, ts } = ctx();
    const a = mm(1, PGD_A, 2), b = mm(2, PGD_B, 3);
    [...switchMmIrqsOff(c, a, undefined), ...switchMmIrqsOff(c, b, undefined)];
    a.tlbGen = 4; // flush_tlb_mm_range while this CPU ran b
    ts.user_pcid_flush_mask = 0;
    expect(cr3Writes([...switchMmIrqsOff(c, a, undefined)])).toEqual([0x1234002n]);
    expect([ts.ctxs[1], ts.user_pcid_flush_mask]).toEqual([{ ctx_id: 2, tlb_gen: 4 }, 1 << 2]);
  });

  it('the loaded mm again is a no-op; init_mm takes its boot slot 0 and init_top_pgt', () => {
    const { c, ts } = ctx();
    const a = mm(1, PGD_A, 2);
    [...switchMmIrqsOff(c, a, undefined)];
    expect([...switchMmIrqsOff(c, a, undefined)]).toEqual([]);
    expect(cr3Writes([...switchMmIrqsOff(c, undefined, undefined)])).toEqual([BigInt(sym.init_top_pgt.pa) | 1n | NF]);
    expect([ts.loaded_mm, ts.loaded_mm_asid, [...c.cpumask(a)]]).toEqual([undefined, 0, []]);
  });
});
