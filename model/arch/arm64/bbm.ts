// When replacing one valid leaf translation with another needs
// break-before-make: Arm ARM (DDI 0487, K.a) D8.17.1 "Using
// break-before-make when updating translation table entries", rule R_WHZWS.
// The same predicate decides whether two TLB entries for one VA in one
// context conflict (D8.17.1, "TLBs concurrently hold multiple different
// copies": a TLB conflict abort or CONSTRAINED UNPREDICTABLE behaviour).
// Linux's own rule, arch/arm64/mm/mmu.c `pgattr_change_is_safe`, is stricter
// in places (any Contiguous entry, UXN, PTE_USER, AF, software bits) and
// never looser: properties/invariants/pgattr.ts transcribes it and its test
// checks the differences, listed in docs/sources/arm64-bbm.md §4.

import type { Leaf } from './descriptor.ts';

/** A leaf as it maps one VA: what a TLB entry or a live descriptor provides. */
export interface Mapping {
  /** The leaf descriptor. */
  readonly leaf: Leaf;
  /** Bytes covered (block size). */
  readonly size: number;
  /** Output PA for the VA in question. */
  readonly pa: number;
}

/** MAIR_EL1.Attr<n> by AttrIndx n (Arm ARM D19.2 MAIR_EL1): what AttrIndx selects. */
export type Mair = readonly number[];

/**
 * The MAIR_EL1 the model's kernel programs: the 4.x `__cpu_setup` layout
 * (docs/sources/arm64-kpti.md §5c; MT_NORMAL = 4). Unused slots are 0x00.
 */
export const MAIR_LINUX_4X: Mair = [0x00, 0x04, 0x0c, 0x44, 0xff, 0xbb, 0x00, 0x00];

/** Tagged Normal (0xF0) is Normal Write-Back (0xFF) with tags: B2.11, a Tagged difference alone is no mismatch. */
const memoryAttributes = (attr: number): number => (attr === 0xf0 ? 0xff : attr);

/** The first R_WHZWS clause that `old -> new` trips, or undefined when the change is safe without BBM. */
export function bbmReason(old: Mapping, next: Mapping, mair: Mair = MAIR_LINUX_4X): string | undefined {
  const a = old.leaf, b = next.leaf;
  // "A change to the memory type, Shareability or Cacheability": what MAIR gives, not the index itself.
  if (memoryAttributes(mair[a.AttrIndx]) !== memoryAttributes(mair[b.AttrIndx]) || a.SH !== b.SH) return 'memory type or shareability change';
  // "The translation OA is changed and ... either translation grants write permission, or the memory
  // contents at the new OA do not match": the model does not track contents, so two distinct frames
  // are never assumed to match and every OA change needs BBM (as `pgattr_change_is_safe` requires).
  if (old.pa !== next.pa) return 'output address change';
  if (old.size !== next.size) return 'block size change';
  // R_JQQTC: contiguous descriptors may be rewritten only if the bit itself does not change.
  if (a.Contiguous !== b.Contiguous) return 'Contiguous bit change';
  // "A global entry is created that might overlap with non-global entries": nG 1 -> 0.
  if (a.nG && !b.nG) return 'nG to global';
  return undefined;
}
