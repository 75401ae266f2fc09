// When replacing one valid leaf translation with another needs
// break-before-make: Arm ARM (DDI 0487, K.a) D8.17.1 "Using
// break-before-make when updating translation table entries", rule R_WHZWS.
// The same predicate decides whether two TLB entries for one VA in one
// context conflict (D8.17.1, "TLBs concurrently hold multiple different
// copies": a TLB conflict abort or CONSTRAINED UNPREDICTABLE behaviour).
// Compare arch/arm64/mm/mmu.c `pgattr_change_is_safe`, which allows the same
// changes (PXN, RDONLY, nG 0->1) and forbids the rest.

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

/** The first R_WHZWS clause that `old -> new` trips, or undefined when the change is safe without BBM. */
export function bbmReason(old: Mapping, next: Mapping): string | undefined {
  const a = old.leaf, b = next.leaf;
  if (a.AttrIndx !== b.AttrIndx || a.SH !== b.SH) return 'memory type or shareability change';
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
