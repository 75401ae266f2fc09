// The vocabulary shared by mitigations (which claim invariants) and
// properties (which check them). Definitions: DESIGN.md "Invariants".

export const INVARIANTS = ['el0-isolation', 'stale-tlb', 'asid-uniqueness', 'functional', 'tlb-conflict', 'bbm', 'wx', 'ng-complete', 'x86-global'] as const;
/** Invariants that only mean something on one architecture. */
export const ARCH_INVARIANTS: Record<'arm64' | 'x86', readonly InvariantId[]> = {
  arm64: ['el0-isolation', 'stale-tlb', 'asid-uniqueness', 'functional', 'tlb-conflict', 'bbm', 'wx', 'ng-complete'],
  x86: ['el0-isolation', 'stale-tlb', 'asid-uniqueness', 'functional', 'tlb-conflict', 'x86-global'],
};
export type InvariantId = (typeof INVARIANTS)[number];

/** One line per invariant, for reports. */
export const INVARIANT_TITLES: Record<InvariantId, string> = {
  'el0-isolation': 'EL0 isolation: EL0 reaches only its own frames and the declared user-shared set',
  'stale-tlb': 'Stale TLB (both ASIDs): no entry of an mm outlives the kernel path that changed it',
  'asid-uniqueness': 'ASID uniqueness: a usable TLB tag always belongs to one live mm',
  'functional': 'Functional: user accesses match an ideal machine; the kernel never faults on its own mapping',
  'tlb-conflict': 'TLB conflict: no two entries that need break-before-make hit one VA in one context',
  'bbm': 'Break-before-make: no live descriptor changes valid-to-valid where the Arm ARM requires the break',
  'wx': 'W^X: no kernel mapping (swapper, trampoline, ID map) is writable and executable at once',
  'ng-complete': 'After the nG rewrite: every swapper leaf is nG and no CPU caches a global kernel entry',
  'x86-global': 'x86 global pages: no global TLB entry maps a frame outside the user-shared set',
};
