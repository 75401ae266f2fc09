// The vocabulary shared by mitigations (which claim invariants) and
// properties (which check them). Definitions: DESIGN.md "Invariants".

export const INVARIANTS = ['el0-isolation', 'stale-tlb', 'asid-uniqueness', 'functional', 'tlb-conflict', 'bbm', 'wx', 'ng-complete', 'x86-global'] as const;
/** Invariants that only mean something on one architecture. */
export const ARCH_INVARIANTS: Record<'arm64' | 'x86', readonly InvariantId[]> = {
  arm64: ['el0-isolation', 'stale-tlb', 'asid-uniqueness', 'functional', 'tlb-conflict', 'bbm', 'wx', 'ng-complete'],
  x86: ['el0-isolation', 'stale-tlb', 'asid-uniqueness', 'functional', 'tlb-conflict', 'x86-global'],
};
export type InvariantId = (typeof INVARIANTS)[number];
