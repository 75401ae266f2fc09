// TLB shootdown (tlb.ts; arch/x86/mm/tlb.c 4.15, docs/sources/x86-pti.md §5)
// through whole runs of pti-pcid. The prefix P leaves pid 1 (mm 1) on CPU 0
// with ASID 1 (PCIDs 0x2/0x802) and its clone on CPU 1 with ASID 2 (PCIDs
// 0x3/0x803), which has cached 0x401000 under both of its PCIDs.
import { describe, expect, it } from 'vitest';
import { va } from '../../arch/va.ts';
import type { AnyHook, AnyOp } from '../../arch/ops.ts';
import { bootKernel, simulate, type SimResult } from '../../../properties/runner/simulate.ts';
import { mitigation as ptiPcid } from '../../mitigations/x86/pti-pcid.ts';
import type { X86Mitigation } from '../../mitigations/x86/types.ts';
import type { Event } from '../events.ts';
import type { X86Kernel } from './kernel.ts';
import { flushTlbMmRange } from './tlb.ts';

const V = va('0x401000');
const sys = (cpu: number, nr: 'clone' | 'getrandom' | 'munmap' | 'fork', slot = 1): Event => ({ k: 'syscall', cpu, nr, slot, prot: 'r', task: 0 });
const run = (cpu: number): Event => ({ k: 'run', cpu, n: 1000 });
/** `switch` with `to: 5` picks the fifth of [current, runnable...]: here, the other of pid 5 (mm 1) and pid 6. */
const swap1: Event[] = [{ k: 'switch', cpu: 1, to: 5 }, run(1)];
const P: Event[] = [sys(0, 'clone'), run(0), ...swap1, { k: 'access', cpu: 1, op: 'store', slot: 1 }, run(1), sys(1, 'getrandom'), run(1)];

function sim(w: Event[], m: X86Mitigation = ptiPcid) {
  const r = simulate(w, m, { trace: true });
  expect(r.violation ?? r.error).toBeUndefined();
  const k = r.kernel as X86Kernel, mm = k.running[0]!.mm;
  const cached = (cpu: number) => k.machine.cpus[cpu].tlb.entries().filter((e) => e.vaBase === V).map((e) => e.pcid).sort((a, b) => a - b);
  return { r, k, mm, cached };
}
/** The trace lines of workload event `ev`, as `cpuN text`. */
const lines = (r: SimResult, ev: number) => r.trace.filter((l) => l.event === ev).map((l) => `cpu${l.cpu} ${l.text}`);
const at = (ls: string[], re: RegExp): number => ls.findIndex((l) => re.test(l));

describe('flush_tlb_mm_range', () => {
  it('the prefix: mm 1 is live on both CPUs, and CPU 1 caches 0x401000 under its kernel and user PCIDs', () => {
    const { k, mm, cached } = sim(P);
    expect(k.running[1]!.mm).toBe(mm);
    expect([...k.mmCpumask(mm)].sort()).toEqual([0, 1]);
    expect([k.tlbstate[0].loaded_mm_asid, k.tlbstate[1].loaded_mm_asid]).toEqual([1, 2]);
    expect(cached(1)).toEqual([0x3, 0x803]);
  });

  it('munmap on CPU 0: a partial local flush, an IPI, flush_tlb_func_remote on CPU 1, and CPU 0 waits for it', () => {
    const { r, k, mm, cached } = sim([...P, sys(0, 'munmap')]);
    const ls = lines(r, P.length);
    const order = [
      /^cpu0 invlpg 0x0+401000$/, /^cpu0 invpcid type=0 .* pcid=0x802 addr=0x0+401000$/, /^cpu0 send IPI to cpu1$/,
      /^cpu1 exception: IPI/, /^cpu1 invlpg 0x0+401000$/, /^cpu1 invpcid type=0 .* pcid=0x803 addr=0x0+401000$/,
      /^cpu0 wait until cpu1 ran flush_tlb_func_remote/, /^cpu0 spin_unlock/,
    ].map((re) => at(ls, re));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // Between the IPI and the end of its wait, CPU 0 runs nothing.
    expect(ls.slice(order[2] + 1, order[6]).every((l) => l.startsWith('cpu1'))).toBe(true);
    expect(cached(1)).toEqual([]);
    expect([mm.tlbGen, k.tlbstate[0].ctxs[1].tlb_gen, k.tlbstate[1].ctxs[2].tlb_gen, k.callQueue[1].length]).toEqual([1, 1, 1, 0]);
  });

  it('without INVPCID the remote CPU marks the user PCID, and its SWITCH_TO_USER_CR3 flushes it', () => {
    const noInvpcid: X86Mitigation = { ...ptiPcid, id: 'test/pti-pcid-no-invpcid', options: { ...ptiPcid.options, invpcid: false } };
    const { r, k, cached } = sim([...P, sys(0, 'munmap')], noInvpcid);
    const ls = lines(r, P.length).filter((l) => l.startsWith('cpu1'));
    const mark = at(ls, /invalidate_user_asid\(2\): __set_bit\(3, user_pcid_flush_mask\)/);
    const exit = at(ls, /mov %rax, %cr3 +\(pgd\(mm 1\) \(user\), pcid=0x803\)$/); // NOFLUSH clear
    const invlpg = at(ls, /^cpu1 invlpg 0x0+401000$/);
    expect([invlpg >= 0, mark > invlpg, exit > mark, at(ls, /invpcid/)]).toEqual([true, true, true, -1]);
    expect([cached(1), k.tlbstate[1].user_pcid_flush_mask]).toEqual([[], 0]);
  });

  it('a CPU that switched away gets no IPI; its slot stays behind until it switches back, which flushes', () => {
    const away = [...P, ...swap1, sys(0, 'munmap'), run(0)];
    const s = sim(away);
    expect(s.k.running[1]!.mm).not.toBe(s.mm);
    expect([...s.k.mmCpumask(s.mm)]).toEqual([0]);
    expect(at(lines(s.r, away.length - 2), /send IPI/)).toBe(-1);
    expect([s.mm.tlbGen, s.k.tlbstate[1].ctxs[2]]).toEqual([1, { ctx_id: s.mm.ctxId, tlb_gen: 0 }]);
    // The entries are stale, but both of the slot's tags are flush-pending (X86View.tagsOf).
    expect(s.cached(1)).toEqual([0x3, 0x803]);
    expect(s.k.view.tagsOf(s.mm, 1).map((t) => [t.tag, t.flushPending])).toEqual([[0x3, true], [0x803, true]]);

    const back = sim([...away, ...swap1]);
    const ls = lines(back.r, away.length);
    expect(back.k.running[1]!.mm).toBe(back.mm);
    expect(at(ls, /switch_mm_irqs_off: mm 1 -> asid 2 \(flush\)$/)).toBeGreaterThanOrEqual(0);
    expect(at(ls, /mov %rax, %cr3 +\(pgd\(mm 1\), pcid=0x3\)$/)).toBeGreaterThanOrEqual(0);
    expect(at(ls, /mov %rax, %cr3 +\(pgd\(mm 1\) \(user\), pcid=0x803\)$/)).toBeGreaterThanOrEqual(0);
    expect([back.k.tlbstate[1].ctxs[2].tlb_gen, back.cached(1)]).toEqual([1, []]);
  });

  it('a whole-mm flush (fork) is local_flush_tlb on both CPUs: CR3 rewritten without NOFLUSH, user PCID marked', () => {
    const { r, k } = sim([...P, sys(0, 'fork')]);
    const ls = lines(r, P.length);
    for (const re of [/^cpu0 \/\/ invalidate_user_asid\(1\)/, /^cpu0 mov %rax, %cr3 +\(pgd\(mm 1\), pcid=0x2\)$/, /^cpu1 \/\/ invalidate_user_asid\(2\)/, /^cpu1 mov %rax, %cr3 +\(pgd\(mm 1\), pcid=0x3\)$/]) {
      expect(at(ls, re), String(re)).toBeGreaterThanOrEqual(0);
    }
    expect([k.tlbstate[0].ctxs[1].tlb_gen, k.tlbstate[1].ctxs[2].tlb_gen]).toEqual([1, 1]);
  });
});

describe('tlb_single_page_flush_ceiling', () => {
  /** The ops of a hook run on CPU 0 of a booted kernel (CR3 reads answered, nothing executed). */
  function opsOf(k: X86Kernel, h: AnyHook): AnyOp[] {
    const out: AnyOp[] = [];
    for (let r = h.next(); !r.done; ) { out.push(r.value); r = h.next(r.value.op === 'read-cr3' ? k.machine.cpus[0].CR3 : undefined); }
    return out;
  }
  const count = (ops: AnyOp[], op: string) => ops.filter((o) => o.op === op).length;

  it('33 pages are flushed one by one, 34 as a whole; an mm loaded nowhere only bumps tlb_gen', () => {
    const k = bootKernel(ptiPcid), mm = k.running[0]!.mm;
    const partial = opsOf(k, flushTlbMmRange(k, 0, mm, 0, 33 * 4096));
    expect([count(partial, 'invlpg'), count(partial, 'invpcid'), count(partial, 'mov-cr3')]).toEqual([33, 33, 0]);
    const whole = opsOf(k, flushTlbMmRange(k, 0, mm, 0, 34 * 4096));
    expect([count(whole, 'invlpg'), count(whole, 'mov-cr3'), k.tlbstate[0].userFlushPending(1)]).toEqual([0, 1, true]);
    const idle = k.tasks.find((t) => t.cpu === undefined)!.mm;
    expect([opsOf(k, flushTlbMmRange(k, 0, idle, 0, 4096)), idle.tlbGen]).toEqual([[], 1]);
    expect([mm.tlbGen, k.tlbstate[0].ctxs[1].tlb_gen]).toEqual([2, 2]);
  });
});
