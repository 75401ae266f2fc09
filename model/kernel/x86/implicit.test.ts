// The processor's implicit supervisor-mode accesses (SDM Vol. 3A §4.6) that
// run while the user CR3 is loaded, and the PTI mappings they need:
// delivery from CPL 3 (IDT, GDT, TSS, entry stack), a load of an LDT
// selector (the LDT remap), and the ESPFIX exit (entry_64.S
// `native_irq_return_ldt`). Each broken PTI that leaves one out faults
// there (`functional`, witness naming the structure); pti-pcid does not.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { vaHex } from '../../arch/va.ts';
import { exception } from '../../arch/x86/ops.ts';
import { X86Tlb } from '../../arch/x86/tlb.ts';
import type { X86AccessEffect, X86Effect } from '../../arch/x86/machine.ts';
import { bootKernel, simulate } from '../../../properties/runner/simulate.ts';
import { perMmSharedHolds } from '../../../properties/invariants/frames.ts';
import { workload } from '../../../properties/workloads/workload.ts';
import { mitigation as ptiLdtNoUserPgd } from '../../mitigations/x86/broken/pti-ldt-no-user-pgd.ts';
import { mitigation as ptiNoCea } from '../../mitigations/x86/broken/pti-no-cea.ts';
import { mitigation as ptiNoEspfix } from '../../mitigations/x86/broken/pti-no-espfix.ts';
import { mapLdtStruct } from '../../mitigations/x86/lib/ldt.ts';
import { mitigation as nopti } from '../../mitigations/x86/nopti.ts';
import { mitigation as ptiNopcid } from '../../mitigations/x86/pti-nopcid.ts';
import { mitigation as ptiPcid } from '../../mitigations/x86/pti-pcid.ts';
import { mitigation as ptiPcid415 } from '../../mitigations/x86/pti-pcid-4.15.ts';
import type { X86Mitigation } from '../../mitigations/x86/types.ts';
import type { Event } from '../events.ts';
import type { X86Kernel } from './kernel.ts';
import { LDT_BASE_ADDR, physToVirt } from './layout.ts';

const sys = (nr: 'modify_ldt' | 'getpid'): Event => ({ k: 'syscall', cpu: 0, nr, slot: 0, prot: 'rw', task: 0 });
const seg = (reg: 'ds' | 'ss'): Event => ({ k: 'segment', cpu: 0, reg });
const irq: Event = { k: 'irq', cpu: 0 };
const run = (m: X86Mitigation, w: Event[]) => {
  const r = simulate(w, m, { trace: true, invariants: m.claims });
  /** Trace lines of event `e`, or of `e` and later (`rest`: a pending IRQ runs under the event in flight). */
  const lines = (e: number, rest = false) => r.trace.filter((l) => (rest ? l.event >= e : l.event === e)).map((l) => l.text);
  return { r, k: r.kernel as X86Kernel, lines };
};
const isAccess = (e: X86Effect): e is X86AccessEffect => e.kind === 'access';

describe('delivery from CPL 3', () => {
  it('reads the IDT, the GDT (the gate\'s __KERNEL_CS) and the TSS and pushes the frame, all through the user PGD', () => {
    const k = bootKernel(ptiPcid), cpu = k.machine.cpus[0];
    expect(cpu.CPL).toBe(3);
    cpu.tlb = new X86Tlb(); // no global entry from the kernel CR3 may answer: every access walks
    k.effects = [];
    k.exec(0, exception('irq', 'timer'));
    const acc = k.effects.filter(isAccess);
    expect(acc.map((a) => a.sym)).toEqual(['IDT[32]', 'GDT[__KERNEL_CS]', 'TSS.RSP0', 'frame on entry stack', 'irq handler']);
    for (const a of acc) expect(a.outcomes.map((o) => [o.fault, o.entry?.owner])).toEqual([[undefined, 'pgd(mm 1) (user)']]);
  });

  it('x86/broken/pti-no-cea (no pti_clone_user_shared) faults on the GDT at the first iretq to user mode', () => {
    const { r } = run(ptiNoCea, []);
    expect(r.violation).toMatchObject({ invariant: 'functional', witness: { access: 'iread', sym: 'GDT[__USER_CS] (iretq)', fault: 'translation' } });
    expect(run(ptiPcid, []).r.violation).toBeUndefined();
  });
});

describe('a load of an LDT selector', () => {
  it('reads the descriptor at the LDT remap through the user PGD (PTI), or in the direct map (no PTI)', () => {
    const pti = run(ptiPcid, [sys('modify_ldt'), seg('ds')]), ldt = [...pti.k.ldts.values()][0];
    expect(pti.r.violation).toBeUndefined();
    expect(pti.lines(1)).toContain(`implicit read ${vaHex(LDT_BASE_ADDR)} (LDT descriptor (mov %ax, %ds)) -> pa 0x${ldt.pa.toString(16)}`);
    const base = run(nopti, [sys('modify_ldt'), seg('ds')]), ldt0 = [...base.k.ldts.values()][0];
    expect(base.lines(1)[0]).toBe(`implicit read ${vaHex(physToVirt(ldt0.pa))} (LDT descriptor (mov %ax, %ds)) -> pa 0x${ldt0.pa.toString(16)}`);
  });

  it('does not apply without an LDT (it would #GP)', () => {
    expect(run(ptiPcid, [seg('ss')]).lines(0)).toEqual([]);
  });

  it('x86/broken/pti-ldt-no-user-pgd (no kernel_to_user_pgdp copy) faults on it under the user CR3', () => {
    expect(run(ptiLdtNoUserPgd, [sys('modify_ldt'), seg('ds')]).r.violation).toMatchObject({
      invariant: 'functional', witness: { access: 'iread', va: '0xfffffe8000000000', sym: 'LDT descriptor (mov %ax, %ds)', fault: 'translation' },
    });
  });
});

describe('ESPFIX', () => {
  it('after an SS load from the LDT, the next iretq runs on the ESPFIX stack under the user CR3 and reads SS from the LDT', () => {
    const { r, lines } = run(ptiPcid, [sys('modify_ldt'), seg('ss'), irq]);
    expect(r.violation).toBeUndefined();
    const after = lines(1, true), exit = after.slice(after.findIndex((l) => l.includes('native_irq_return_ldt')));
    expect(after.some((l) => l.startsWith('exception: IRQ'))).toBe(true);
    expect(exit.filter((l) => l.startsWith('mov %rax, %cr3'))).toEqual(['mov %rax, %cr3  (pgd(mm 1), pcid=0x2, NOFLUSH)', 'mov %rax, %cr3  (pgd(mm 1) (user), pcid=0x802, NOFLUSH)']);
    expect(exit.slice(-3)).toEqual([
      expect.stringMatching(/^read 0x\w+ \(popq %rax \(ESPFIX stack\)\) -> pa 0x/),
      expect.stringMatching(/^implicit read 0x\w+ \(iretq pops its frame \(ESPFIX stack\)\) -> pa 0x/),
      'iretq (SS from the LDT at 0xfffffe8000000000)',
    ]);
    expect(run(nopti, [sys('modify_ldt'), seg('ss'), irq]).r.violation).toBeUndefined();
  });

  it('a syscall returns on the flat SS (`pushq $__USER_DS`): no ESPFIX afterwards', () => {
    const { lines } = run(ptiPcid, [sys('modify_ldt'), seg('ss'), sys('getpid'), { k: 'access', cpu: 0, op: 'store', slot: 0 }]);
    const after = lines(3);
    expect(after.some((l) => l.startsWith('exception: FAULT'))).toBe(true); // a store to the read-only text: #PF
    expect(run(ptiPcid, [sys('modify_ldt'), seg('ss'), { k: 'access', cpu: 0, op: 'store', slot: 0 }]).lines(2).some((l) => l.includes('native_irq_return_ldt'))).toBe(true);
    expect(after.some((l) => l.includes('native_irq_return_ldt'))).toBe(false);
    expect(after.at(-1)).toBe('iretq');
  });

  it('x86/broken/pti-no-espfix (no pti_setup_espfix64) faults on the ESPFIX stack after SWITCH_TO_USER_CR3', () => {
    expect(run(ptiNoEspfix, [sys('modify_ldt'), seg('ss'), irq]).r.violation).toMatchObject({
      invariant: 'functional', witness: { sym: 'popq %rax (ESPFIX stack)', fault: 'translation' },
    });
  });
});

describe('the LDT remap in the user PGD (IsolationView.perMmShared)', () => {
  it('holds the process\'s own LDT frame under pti-pcid, and is never a page-table or kernel-secret frame', () => {
    const { k } = run(ptiPcid, [sys('modify_ldt')]);
    const ldt = [...k.ldts.values()][0];
    expect(k.view.perMmShared().map((r) => [r.pa, r.where, k.view.label(r.pa)])).toEqual([[ldt.pa, 'LDT remap in pgd(mm 1) (user)', 'user(1)']]);
    expect(perMmSharedHolds(k.view, 'el0-isolation')).toBeUndefined();
    // A map_ldt_struct that maps the mm's own PGD page there instead.
    const bad: X86Mitigation = { ...ptiPcid, hooks: { ...ptiPcid.hooks, mapLdtStruct: (c, mm, l) => mapLdtStruct(c, mm, { ...l, pa: mm.pgd }) } };
    const b = run(bad, [sys('modify_ldt')]).k;
    expect(perMmSharedHolds(b.view, 'el0-isolation')).toMatchObject({
      rule: 'user-shared set holds a forbidden frame', witness: { where: 'LDT remap in pgd(mm 1) (user)', label: 'page-table', frame: 'pgd(mm 1)' },
    });
  });
});

describe('the reference PTIs with tasks on LDT segments', () => {
  // Generated workloads rarely line up modify_ldt, an SS load and an IRET exit on one task (about 1 in 300),
  // so these start every workload with them on a generated CPU, then interleave anything.
  const ldtTask = fc.nat({ max: 1 }).map((cpu): Event[] => [{ ...sys('modify_ldt'), cpu }, { k: 'segment', cpu, reg: 'ss' }]);
  it.each([ptiPcid, ptiPcid415, ptiNopcid, nopti])('$id keeps functional (and el0-isolation if claimed) through ESPFIX exits', (m) => {
    const invariants = m.claims.filter((i) => i === 'functional' || i === 'el0-isolation');
    let espfix = 0;
    fc.assert(fc.property(ldtTask, workload({ arch: 'x86', ncpus: 2, maxEvents: 40 }), (pre, w) => {
      const r = simulate([...pre, ...w], m, { invariants, trace: true });
      if (r.trace.some((l) => l.text.startsWith('fetch') && l.text.includes('native_irq_return_ldt'))) espfix++;
      expect(r.violation ?? r.error).toBeUndefined();
    }), { numRuns: 100 });
    console.info(`${m.id}: ${espfix} of 100 runs went through ESPFIX`);
    expect(espfix, 'no run went through ESPFIX').toBeGreaterThan(0);
  });
});
