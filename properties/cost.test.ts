// Cost in ops per syscall and per context switch, and the seed setting.
import { describe, expect, it } from 'vitest';
import { mitigation as kpti } from '../model/mitigations/arm64/kpti.ts';
import { mitigation as nokpti } from '../model/mitigations/arm64/nokpti.ts';
import { mitigation as nopti } from '../model/mitigations/x86/nopti.ts';
import { mitigation as ptiNopcid } from '../model/mitigations/x86/pti-nopcid.ts';
import { mitigation as ptiNopcid415 } from '../model/mitigations/x86/pti-nopcid-4.15.ts';
import { mitigation as ptiPcid } from '../model/mitigations/x86/pti-pcid.ts';
import { REFERENCE } from '../model/mitigations/index.ts';
import { cycles, relativeRate, uncosted, X86_COSTS, X86_UNCOSTED } from './cost-table.ts';
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

  it('a context switch keeps the user working set under PCID; without PCID the new process walks for both pages again', () => {
    const pcid = measureCost(ptiPcid).perSwitch, nopcid = measureCost(ptiNopcid).perSwitch;
    expect(pcid['TLB miss (user)'] ?? 0).toBeLessThan(0.1); // only the first switches' cold misses
    expect(nopcid['TLB miss (user)']).toBe(2);
  });

  it('mprotect of a working-set page takes INVLPG and INVPCID under PTI with PCID, INVLPG alone without PTI, and the page misses once after', () => {
    const pcid = measureCost(ptiPcid).perMprotect!, none = measureCost(nopti).perMprotect!;
    expect(pcid).toMatchObject({ invlpg: 1, 'invpcid type=0': 1, 'flush: invpcid type=0 (user PCID)': 1 });
    expect(none.invlpg).toBe(1);
    expect(Object.keys(none).filter((c) => c.startsWith('invpcid'))).toEqual([]);
    for (const c of [pcid, none]) expect(c['TLB miss (user)']).toBeGreaterThanOrEqual(1);
  });

  it('without PCID, 4.15 (nothing global) refills the shared kernel areas after every flushing CR3 write; 4.17 keeps them global', () => {
    const g = measureWithEstimate(ptiNopcid), n = measureWithEstimate(ptiNopcid415);
    const misses = (c: Record<string, number>) => (c['TLB miss (kernel)'] ?? 0) + (c['TLB miss (kernel fetch)'] ?? 0);
    expect(misses(n.perSyscall)).toBeGreaterThan(misses(g.perSyscall));
    expect(n.estimate!.relative).toBeLessThan(g.estimate!.relative);
  });

  it('prints CR3 writes, flushes, INVLPG, INVPCID and user TLB misses even at zero (x86 only)', () => {
    expect(formatCost({ 'flush: invlpg': 1, 'read-cr3': 2 }, measureCost(nopti).shown)).toBe('0 mov-cr3, 1 flush: invlpg, 0 invlpg, 0 invpcid, 0 TLB miss (user), 2 read-cr3');
    expect(formatCost({ 'mov-cr3 noflush': 2, 'invpcid type=0': 1 }, measureCost(nopti).shown)).toBe('2 mov-cr3 noflush, 0 flush, 0 invlpg, 1 invpcid type=0, 0 TLB miss (user)');
    expect(measureCost(kpti).shown).toBeUndefined();
  });

  it('every op class the x86 reference mitigations execute has a cycle figure or is listed as uncosted, and the estimate names the uncosted ones', () => {
    for (const { mitigation: m } of REFERENCE.filter((b) => b.mitigation.arch === 'x86')) {
      const c = measureCost(m);
      for (const row of [c.perSyscall, c.perSwitch, c.perMprotect!]) expect(X86_UNCOSTED).toEqual(expect.arrayContaining(uncosted(row)));
    }
    expect(measureWithEstimate(ptiPcid).estimate!.uncosted).toContain('read-cr3');
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
