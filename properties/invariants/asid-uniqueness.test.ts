// asid-uniqueness is judged whenever a CPU's context changes, not only at
// arm64's context-synchronising ops: on x86 a MOV CR3 with NOFLUSH into a
// PCID that still holds another mm's entries breaks it at once (SDM
// §4.10.4.2), with no TLB fill and no ISB/ERET/exception.
import { describe, expect, it } from 'vitest';
import { cr3Value } from '../../model/arch/x86/cpu.ts';
import { exception, movCr3 } from '../../model/arch/x86/ops.ts';
import type { Event } from '../../model/kernel/events.ts';
import type { X86Kernel } from '../../model/kernel/x86/kernel.ts';
import { mitigation as reuse } from '../../model/mitigations/x86/broken/asid-reuse-no-flush.ts';
import { mitigation as ptiPcid } from '../../model/mitigations/x86/pti-pcid.ts';
import { simulate } from '../runner/simulate.ts';
import { asidUniqueness } from './asid-uniqueness.ts';

const sw = (cpu: number, to: number): Event => ({ k: 'switch', cpu, to });

describe('asid-uniqueness on x86', () => {
  it('fires at the MOV CR3 NOFLUSH that loads a reused PCID, and the twin holds', () => {
    const r = simulate([sw(1, 2), sw(1, 2)], reuse, { invariants: ['asid-uniqueness'], trace: true });
    expect(r.violation).toMatchObject({ invariant: 'asid-uniqueness', rule: 'current tag holds another mm\'s entry', witness: { cpu: 1, tag: 2 } });
    expect(r.trace.find((l) => l.step === r.violation!.step)?.text).toMatch(/^mov %rax, %cr3 .*NOFLUSH/);
    const t = simulate([sw(1, 2), sw(1, 2)], ptiPcid, { invariants: ptiPcid.claims });
    expect(t.violation).toBeUndefined();
  });

  it('judges a context change after a clean judgement of the same TLB (the memo is keyed on the context too)', () => {
    const k = simulate([sw(1, 2)], reuse, { invariants: [] }).kernel as X86Kernel;
    k.exec(1, exception('irq', 'timer')); // to CPL 0, where MOV CR3 is allowed
    expect(asidUniqueness.check(k, { cpu: 1, effects: [] })).toBeUndefined();
    // CPU 1 ran mm 5 under kernel PCID 2 at boot: load it again for mm 2, NOFLUSH.
    const op = movCr3(cr3Value(k.machine.cpus[1].root, 2, true));
    k.effects = [];
    k.exec(1, op);
    expect(asidUniqueness.check(k, { cpu: 1, op, effects: k.effects })).toMatchObject({ witness: { cpu: 1, tag: 2, live: 'mm 2', entry: expect.stringMatching(/^pgd\(mm 5\)/) } });
  });
});
