// Cost in ops per syscall and per context switch, and the seed setting.
import { describe, expect, it } from 'vitest';
import { mitigation as kpti } from '../model/mitigations/arm64/kpti.ts';
import { mitigation as nokpti } from '../model/mitigations/arm64/nokpti.ts';
import { mitigation as nopti } from '../model/mitigations/x86/nopti.ts';
import { mitigation as ptiNopcid } from '../model/mitigations/x86/pti-nopcid.ts';
import { mitigation as ptiPcid } from '../model/mitigations/x86/pti-pcid.ts';
import { cycles, relativeRate, X86_COSTS } from './cost-table.ts';
import { formatCost, measureCost, measureWithEstimate } from './cost.ts';
import { DEFAULT_SEED, fcSeed } from './seed.ts';

describe('measureCost', () => {
  it('counts the trampoline: KPTI writes TTBR1 and VBAR twice per syscall, no KPTI neither', () => {
    const k = measureCost(kpti), n = measureCost(nokpti);
    expect(k.perSyscall).toMatchObject({ 'MSR TTBR1_EL1': 2, 'MSR VBAR_EL1': 2, isb: 2, eret: 1 });
    expect(n.perSyscall.eret).toBe(1);
    expect(Object.keys(n.perSyscall).filter((c) => c.startsWith('MSR'))).toEqual([]);
    expect(k.perSwitch['MSR TTBR0_EL1']).toBe(2);
    expect(formatCost({ 'MSR TTBR1_EL1': 1, isb: 2 })).toBe('2 isb, 1 MSR TTBR1_EL1');
  });
});

describe('x86 cost', () => {
  it('PTI with PCID switches CR3 twice per syscall without flushing; without PCID both writes flush and the working set misses', () => {
    const pcid = measureCost(ptiPcid).perSyscall, nopcid = measureCost(ptiNopcid).perSyscall, none = measureCost(nopti).perSyscall;
    expect(pcid['mov-cr3 noflush']).toBe(2);
    expect(pcid['mov-cr3']).toBeUndefined();
    expect(pcid['TLB miss (user)'] ?? 0).toBeLessThan(0.1); // only the first iteration's cold misses
    expect(nopcid).toMatchObject({ 'mov-cr3': 2, 'flush: mov-cr3': 2, 'TLB miss (user)': 2 });
    expect(Object.keys(none).filter((c) => c.startsWith('mov-cr3'))).toEqual([]);
  });

  it('turns counts into cycles with the cost table, and a rate relative to the kernel without PTI', () => {
    expect(cycles({ 'mov-cr3': 2, 'invlpg': 1, note: 5 })).toBe(2 * X86_COSTS['mov-cr3'].cycles + X86_COSTS.invlpg.cycles);
    expect(relativeRate({}, {})).toBe(1);
    const pcid = measureWithEstimate(ptiPcid).estimate!, nopcid = measureWithEstimate(ptiNopcid).estimate!;
    expect(pcid.relative).toBeLessThan(1);
    expect(nopcid.relative).toBeLessThan(pcid.relative);
    expect(measureWithEstimate(nopti).estimate!.relative).toBe(1);
    expect(measureWithEstimate(kpti).estimate).toBeUndefined();
  });
});

describe('fcSeed', () => {
  it('reads FC_SEED, defaults when unset, and rejects garbage', () => {
    expect(fcSeed({})).toBe(DEFAULT_SEED);
    expect(fcSeed({ FC_SEED: '42' })).toBe(42);
    expect(() => fcSeed({ FC_SEED: 'x' })).toThrow(/FC_SEED must be an integer/);
  });
});
