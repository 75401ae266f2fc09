// Cost in ops per syscall and per context switch, and the seed setting.
import { describe, expect, it } from 'vitest';
import { mitigation as kpti } from '../model/mitigations/arm64/kpti.ts';
import { mitigation as nokpti } from '../model/mitigations/arm64/nokpti.ts';
import { formatCost, measureCost } from './cost.ts';
import { DEFAULT_SEED, fcSeed } from './seed.ts';

describe('measureCost', () => {
  it('counts the trampoline: KPTI writes TTBR1 and VBAR twice per syscall, no KPTI neither', () => {
    const k = measureCost(kpti), n = measureCost(nokpti);
    expect(k.perSyscall).toMatchObject({ 'MSR TTBR1_EL1': 2, 'MSR VBAR_EL1': 2, isb: 2, eret: 1 });
    expect(n.perSyscall).toEqual({ eret: 1 });
    expect(k.perSwitch['MSR TTBR0_EL1']).toBe(2);
    expect(formatCost({ 'MSR TTBR1_EL1': 1, isb: 2 })).toBe('2 isb, 1 MSR TTBR1_EL1');
  });
});

describe('fcSeed', () => {
  it('reads FC_SEED, defaults when unset, and rejects garbage', () => {
    expect(fcSeed({})).toBe(DEFAULT_SEED);
    expect(fcSeed({ FC_SEED: '42' })).toBe(42);
    expect(() => fcSeed({ FC_SEED: 'x' })).toThrow(/FC_SEED must be an integer/);
  });
});
