// Cycle costs of the x86 op classes, each from a public source
// (docs/sources/x86-cost.md, quoted there) and none tuned to the seed's
// result. They turn the model's op counts per syscall into an estimated
// syscall cost relative to the same kernel without PTI. Simplifications:
// costs add up (no overlap or pipelining), and every TLB miss is a full walk.

/** One op class's cost in cycles, and where the figure comes from. */
export interface CostFigure {
  readonly cycles: number;
  readonly source: string;
}

export const X86_COSTS: Readonly<Record<string, CostFigure>> = {
  'mov-cr3': { cycles: 100, source: '4.15 Documentation/x86/pti.txt: "Moves to CR3 are on the order of a hundred cycles"; Molnar 2015 measured 96 (x86-cost.md §2)' },
  'mov-cr3 noflush': { cycles: 100, source: 'pti.txt (the same figure; no source times a NOFLUSH write separately; Lutomirski 2019: "IIRC under 300")' },
  'invlpg': { cycles: 200, source: 'Dave Hansen, LKML 2017-12-05: INVLPG ~200 cycles on Skylake (x86-cost.md §4)' },
  'invpcid type=0': { cycles: 350, source: 'Dave Hansen, LKML 2017-12-05: "~350 cycles per-page" (550 with the INVLPG); Molnar 2017: "+330" (x86-cost.md §5a)' },
  'invpcid type=1': { cycles: 100, source: 'KAISER PCID patch, 2017: INVPCID single-context "probably ~100 cycles" (an estimate; x86-cost.md §5b)' },
  'TLB miss (user)': { cycles: 45, source: 'Dave Hansen, LKML 2014: dTLB miss ~45 cycles (IvyBridge PMU counters; x86-cost.md §3a); user code only loads and stores' },
  'TLB miss (kernel)': { cycles: 45, source: 'Dave Hansen, LKML 2014: dTLB miss ~45 cycles (x86-cost.md §3a); the kernel\'s loads and stores' },
  'TLB miss (kernel fetch)': { cycles: 34, source: 'Dave Hansen, LKML 2014: iTLB miss ~34 cycles (the same measurement, x86-cost.md §3a); the kernel\'s instruction fetches' },
};

/**
 * Op classes the model executes that no public source gives a cycle figure
 * for (x86-cost.md §9, x86-pti.md §9): they cost 0 here, and the cost output
 * says so when they occur. Lutomirski (1e02ce4cccdc, 2014) says only "CR4
 * reads take several cycles"; INVPCID's all-context types and CR4 writes
 * have no figure at all.
 */
export const X86_UNCOSTED: readonly string[] = ['invpcid type=2', 'invpcid type=3', 'mov-cr4', 'read-cr3', 'read-cr4'];

/** Op classes in `counts` without a cycle figure (flush effects are charged through their ops and the misses after). */
export const uncosted = (counts: Readonly<Record<string, number>>): string[] =>
  Object.keys(counts).filter((cls) => !(cls in X86_COSTS) && !cls.startsWith('flush: '));

/**
 * The seed's benchmark (KAISER v4 cover letter, corrected in x86-cost.md
 * §0: will-it-scale lseek1, 1 thread): 5.2M/s without KAISER, 3.0M/s with
 * KAISER and PCID, 2.2M/s without PCID, all with nothing global; and from
 * the same author's 2017-11-01 mail, with global entries for the
 * user-mapped areas ("ge"), 3.1M/s and 2.5M/s.
 */
export const SEED = { base: 5.2e6, pcid: 3.0e6, nopcid: 2.2e6, pcidGlobal: 3.1e6, nopcidGlobal: 2.5e6 } as const;
/** The seed's baseline iteration: 1 / 5.2M s = 192 ns (the benchmark's own denominator, not a fitted value). */
export const BASE_NS = 1e9 / SEED.base;
/**
 * Clock rate to turn cycles into ns. The seed names no CPU or clock; the
 * only clock stated in the sources is Andy Lutomirski's Skylake at 2.3 GHz
 * (10af6235e0d3, x86-cost.md §3d), so that is the one used.
 */
export const CLOCK_GHZ = 2.3;

/** Cycles of the costed classes in `perSyscall` (classes without a figure cost nothing). */
export const cycles = (counts: Readonly<Record<string, number>>): number =>
  Object.entries(counts).reduce((sum, [cls, n]) => sum + n * (X86_COSTS[cls]?.cycles ?? 0), 0);

/**
 * Estimated syscall throughput of a mitigation relative to `baseline`
 * (the same kernel without PTI): BASE_NS / (BASE_NS + extra cycles / clock).
 */
export function relativeRate(perSyscall: Readonly<Record<string, number>>, baseline: Readonly<Record<string, number>>): number {
  const extraNs = (cycles(perSyscall) - cycles(baseline)) / CLOCK_GHZ;
  return BASE_NS / (BASE_NS + extraNs);
}
