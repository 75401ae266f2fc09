// Linux's rule for changing a live kernel mapping without break-before-make:
// arch/arm64/mm/mmu.c `pgattr_change_is_safe`, called as
// `BUG_ON(!pgattr_change_is_safe(old, new))` from init_pte/init_pmd/
// alloc_init_pud. Transcribed line by line over raw descriptor values, in
// the four versions that differ (docs/sources/arm64-bbm.md §2). It is a
// kernel policy, stricter than the Arm ARM rule the `bbm` invariant checks
// (model/arch/arm64/bbm.ts); pgattr.test.ts pins the differences down.

import type { Mair } from '../../model/arch/arm64/bbm.ts';
import { MAIR_LINUX_4X } from '../../model/arch/arm64/bbm.ts';

const BIT = (n: number): bigint => 1n << BigInt(n);
// arch/arm64/include/asm/pgtable-hwdef.h (docs/sources/arm64-bbm.md §3).
export const PTE_VALID = BIT(0), PTE_USER = BIT(6), PTE_RDONLY = BIT(7), PTE_AF = BIT(10), PTE_NG = BIT(11);
export const PTE_GP = BIT(50), PTE_DBM = BIT(51), PTE_CONT = BIT(52), PTE_PXN = BIT(53), PTE_UXN = BIT(54);
/** pgtable-prot.h: `#define PTE_WRITE (PTE_DBM)`. */
export const PTE_WRITE = PTE_DBM;
/** `BIT(63) | GENMASK(58, 55)`. */
export const PTE_SWBITS_MASK = BIT(63) | (0xfn << 55n);
export const PTE_ATTRINDX_MASK = 7n << 2n;
const PTE_ATTRINDX = (t: number): bigint => BigInt(t) << 2n;
/** `PTE_ADDR_LOW` with 48-bit PAs and 4 KiB pages: bits [47:12]. */
const PTE_ADDR_MASK = ((1n << 36n) - 1n) << 12n;
const pte_pfn = (pte: bigint): bigint => (pte & PTE_ADDR_MASK) >> 12n;

/** MAIR_EL1_SET of 5.10+ kernels with MTE: MT_NORMAL 0 (0xff), MT_NORMAL_TAGGED 1 (0xf0), NC 2, nGnRnE 3, nGnRE 4. */
export const MAIR_LINUX_6X_MTE: Mair = [0xff, 0xf0, 0x44, 0x00, 0x04, 0x00, 0x00, 0x00];

/** One version of the function: what differs between them. */
export interface PgattrVersion {
  readonly name: string;
  /** Where it was read (docs/sources/arm64-bbm.md §2). */
  readonly source: string;
  /** "The following mapping attributes may be updated in live kernel mappings without the need for break-before-make." */
  readonly mask: bigint;
  /** "creating or taking down mappings is always safe": `old == 0 || new == 0`, or `!pte_valid(...)`. */
  readonly takeDown: 'zero' | 'pte_valid';
  /** "A live entry's pfn should not change". */
  readonly pfn: boolean;
  /** "Transitioning from Non-Global to Global is unsafe". */
  readonly ng: boolean;
  /** `{MT_NORMAL, MT_NORMAL_TAGGED}` when "Changing the memory type between Normal and Normal-Tagged is safe". */
  readonly tagged?: readonly [number, number];
  /** The MAIR_EL1 that kernel programs, which gives AttrIndx its meaning. */
  readonly mair: Mair;
}

const BASE = PTE_PXN | PTE_RDONLY | PTE_WRITE;
export const PGATTR_VERSIONS: readonly PgattrVersion[] = [
  { name: 'pre-kpti', source: 'torvalds/linux@98d2e153 (v4.1x)', mask: BASE, takeDown: 'zero', pfn: false, ng: false, mair: MAIR_LINUX_4X },
  { name: 'kpti', source: 'v4.19 mmu.c (arm64-ng-rewrite.md §5)', mask: BASE | PTE_NG, takeDown: 'zero', pfn: false, ng: true, mair: MAIR_LINUX_4X },
  { name: 'v6.1', source: 'torvalds/linux@004fc58f', mask: BASE | PTE_NG, takeDown: 'pte_valid', pfn: true, ng: true, tagged: [0, 1], mair: MAIR_LINUX_6X_MTE },
  { name: 'swbits', source: 'newest seen (unattributed copy, PTE_SWBITS_MASK)', mask: BASE | PTE_NG | PTE_SWBITS_MASK, takeDown: 'pte_valid', pfn: true, ng: true, tagged: [0, 1], mair: MAIR_LINUX_6X_MTE },
];

/** `pgattr_change_is_safe(old, new)` of version `v`. */
export function pgattr_change_is_safe(old: bigint, next: bigint, v: PgattrVersion): boolean {
  let mask = v.mask;
  if (v.takeDown === 'zero' ? old === 0n || next === 0n : !(old & PTE_VALID) || !(next & PTE_VALID)) return true;
  if (v.pfn && pte_pfn(old) !== pte_pfn(next)) return false;
  /* live contiguous mappings may not be manipulated at all */
  if ((old | next) & PTE_CONT) return false;
  if (v.ng && old & ~next & PTE_NG) return false;
  if (v.tagged) {
    const normal = (x: bigint) => (x & PTE_ATTRINDX_MASK) === PTE_ATTRINDX(v.tagged![0]) || (x & PTE_ATTRINDX_MASK) === PTE_ATTRINDX(v.tagged![1]);
    if (normal(old) && normal(next)) mask |= PTE_ATTRINDX_MASK;
  }
  return ((old ^ next) & ~mask) === 0n;
}
