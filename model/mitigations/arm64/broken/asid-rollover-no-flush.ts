// An ASID rollover that reuses ASIDs without the pending local TLB flush:
// `check_and_switch_context` ignores `tlb_flush_pending`, so entries from
// an mm of the previous generation stay tagged with an ASID that
// `new_context` hands to another mm. This drops the per-CPU flush that
// commit 5aec715d7d3b "arm64: mm: rewrite ASID allocator and MM
// context-switching code" (Will Deacon, 2015) introduced with
// `tlb_flush_pending` (arch/arm64/mm/context.c, check_and_switch_context:
// `if (cpumask_test_and_clear_cpu(cpu, &tlb_flush_pending)) local_flush_tlb_all();`).

import { kptiHooks, kptiSwitchContext, mitigation as kpti } from '../kpti.ts';
import { switchMm } from '../lib/mmu_context.ts';
import type { Arm64Mitigation } from '../types.ts';

const noFlush = { ...kptiSwitchContext, flushPending: false };

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/asid-rollover-no-flush',
  title: 'ASID rollover without the pending local TLB flush',
  source: 'drops local_flush_tlb_all() on tlb_flush_pending from check_and_switch_context (arch/arm64/mm/context.c), added by 5aec715d7d3b "arm64: mm: rewrite ASID allocator and MM context-switching code"',
  expect: { violates: ['asid-uniqueness', 'el0-isolation'], twin: 'arm64/kpti' },
  hooks: { ...kptiHooks, switchMm: (c, prev, next, tsk) => switchMm(c, prev, next, tsk, noFlush) },
};
export default mitigation;
