// The reference x86 mitigations against every invariant they claim, over
// generated workloads, in the kernel configurations that matter to them
// (PCID with and without INVPCID, few ASID slots so they are handed from
// mm to mm, a KASLR offset, no PCID with and without global kernel text); and the baseline without PTI shown to violate
// CPL3 isolation. Each property reports how often its interesting cases
// occurred and fails if one never did.

import { describe, expect, it } from 'vitest';
import type { Stats } from '../model/kernel/kernel.ts';
import { mitigation as nopti } from '../model/mitigations/x86/nopti.ts';
import { mitigation as ptiNopcid } from '../model/mitigations/x86/pti-nopcid.ts';
import { mitigation as ptiNopcid415 } from '../model/mitigations/x86/pti-nopcid-4.15.ts';
import { mitigation as ptiNopcidGlobalText } from '../model/mitigations/x86/pti-nopcid-global-text.ts';
import { mitigation as ptiPcid } from '../model/mitigations/x86/pti-pcid.ts';
import { mitigation as ptiPcid415 } from '../model/mitigations/x86/pti-pcid-4.15.ts';
import type { X86Mitigation, X86Options } from '../model/mitigations/x86/types.ts';
import { SharedRuns, checkInvariant } from './check.ts';

const RUNS = 400;
const ALL: (keyof Stats)[] = ['el0AccessAfterMunmap', 'rollover', 'irqAtEl0', 'specFillKernelVa'];
/** Without slot reuse (six slots, or no PCID at all) the rollover case cannot occur. */
const NO_REUSE = ALL.filter((s) => s !== 'rollover');

const CONFIGS: { name: string; m: X86Mitigation; kernel: Partial<X86Options>; expect: (keyof Stats)[] }[] = [
  { name: 'pti-pcid, 2 ASID slots', m: ptiPcid, kernel: { dynAsids: 2 }, expect: ALL },
  { name: 'pti-pcid, 6 ASID slots, KASLR', m: ptiPcid, kernel: { kaslr: 0x1f00_0000 }, expect: NO_REUSE },
  { name: 'pti-pcid without INVPCID, 3 ASID slots', m: ptiPcid, kernel: { invpcid: false, dynAsids: 3 }, expect: ALL },
  { name: 'pti-pcid-4.15 (nothing global), 3 ASID slots', m: ptiPcid415, kernel: { dynAsids: 3 }, expect: ALL },
  { name: 'pti-nopcid', m: ptiNopcid, kernel: {}, expect: NO_REUSE },
  { name: 'pti-nopcid-4.15 (nothing global)', m: ptiNopcid415, kernel: {}, expect: NO_REUSE },
  { name: 'pti-nopcid with global kernel text (pti=auto)', m: ptiNopcidGlobalText, kernel: {}, expect: NO_REUSE },
  { name: 'nopti, 2 ASID slots', m: nopti, kernel: { dynAsids: 2 }, expect: ALL },
];

describe.each(CONFIGS)('$name', ({ name, m, kernel, expect: cases }) => {
  const shared = new SharedRuns(m, m.claims, kernel);
  it.each(m.claims.map((inv) => [inv]))('holds %s', (inv) => {
    const out = checkInvariant(m, inv, { numRuns: RUNS, kernel, shared });
    console.info(`${name} ${inv}: ${out.runs} runs; interesting cases ${JSON.stringify(out.stats)}`);
    expect(out.failure?.result.violation ?? out.failure?.result.error).toBeUndefined();
    for (const kase of cases) expect(out.stats[kase], `interesting case ${kase} never occurred`).toBeGreaterThan(0);
  });
});

describe('nopti', () => {
  it('violates CPL3 isolation and the global-page rule, which it does not claim', () => {
    expect(nopti.claims).not.toContain('el0-isolation');
    const iso = checkInvariant(nopti, 'el0-isolation', { numRuns: RUNS }).failure?.result.violation;
    expect(iso).toMatchObject({ invariant: 'el0-isolation', witness: { label: 'kernel-secret', frame: 'primary_crng' } });
    expect(checkInvariant(nopti, 'x86-global', { numRuns: RUNS }).failure?.result.violation?.invariant).toBe('x86-global');
  });
});
