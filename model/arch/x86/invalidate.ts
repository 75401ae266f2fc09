// Which TLB entries each x86 invalidating operation removes: Intel SDM
// Vol. 3A §4.10.4.1 "Operations that Invalidate TLBs and Paging-Structure
// Caches", as quoted in docs/sources/x86-pti.md §7c. Pure predicates over a
// TLB entry; machine.ts applies them, at once and to the executing CPU only
// (x86 has no broadcast invalidation: other CPUs need an IPI, which is the
// kernel's business).
//
// Where the SDM says an operation "may" invalidate more (the "may invalidate
// more" list in §7c), these invalidate exactly what is required and no more:
// a mitigation that relies on an extra flush fails here, as it could on some
// processor. Paging-structure caches are not modelled (tlb.ts), so their part
// of each rule has nothing to act on.

import type { VA } from '../va.ts';
import { decodeCr3, type Cr4 } from './cr.ts';
import type { X86Op } from './ops.ts';
import { entrySize, hits, type X86TlbEntry } from './tlb.ts';

/** The entries an operation invalidates. */
export type Invalidation = (e: X86TlbEntry) => boolean;

const covers = (e: X86TlbEntry, va: VA): boolean => va >= e.vaBase && va < e.vaBase + entrySize(e);
const everything: Invalidation = () => true;

/**
 * MOV to CR3 with source operand `value` while CR4 is `cr4`. PCIDE = 0: the
 * entries of PCID 000H except global ones (all non-global entries: with
 * PCIDE = 0 every fill is tagged 000H, and PCIDE 1 -> 0 flushed the rest).
 * PCIDE = 1, bit 63 clear: the non-global entries of the PCID in bits 11:0.
 * PCIDE = 1, bit 63 set: nothing. Simplification: bit 63 with PCIDE = 0 is
 * ignored (Linux's `build_cr3_noflush` warns instead; the SDM makes it a
 * reserved bit, from memory, not in the excerpt).
 */
export function movCr3Invalidates(cr4: Cr4, value: bigint): Invalidation | undefined {
  const { pcid, noflush } = decodeCr3(value);
  if (!cr4.PCIDE) return (e) => !e.global && e.pcid === 0;
  return noflush ? undefined : (e) => !e.global && e.pcid === pcid;
}

/**
 * MOV to CR4 from `old` to `next`: everything, global entries and all PCIDs
 * included, if it changes PGE (either way) or changes PCIDE from 1 to 0
 * (tlbflush.h: "any _change_ to X86_CR4_PGE will fully flush", x86-pti.md
 * §4c). Setting PCIDE (0 -> 1) invalidates nothing: the SDM lists no
 * invalidation for it, and entries filled so far carry PCID 000H, which
 * stays current because CR3[11:0] must be 0 (machine.ts).
 */
export function movCr4Invalidates(old: Cr4, next: Cr4): Invalidation | undefined {
  return old.PGE !== next.PGE || (old.PCIDE && !next.PCIDE) ? everything : undefined;
}

/** INVLPG `va` with current PCID `pcid`: entries for the page in that PCID, and global entries for the page under any PCID. */
export const invlpgInvalidates = (va: VA, pcid: number): Invalidation => (e) => hits(e, va, pcid);

/**
 * INVPCID. Type 0 (individual address): the given PCID's mappings of the
 * descriptor's address, not global ones. Type 1 (single context): every
 * non-global mapping of the PCID. Type 2: everything, globals included, all
 * PCIDs. Type 3: everything except globals. A PCID above 0xfff (descriptor
 * bits 63:12 set) or a type 0 without an address is malformed (a #GP on
 * hardware) and throws. Not modelled: the #GP for types 0/1 with a nonzero
 * PCID while CR4.PCIDE = 0 (with PCIDE = 0 every entry is PCID 000H, so such
 * an INVPCID removes nothing here).
 */
export function invpcidInvalidates(op: Extract<X86Op, { op: 'invpcid' }>): Invalidation {
  const { pcid, va } = op;
  if (!Number.isInteger(pcid) || pcid < 0 || pcid > 0xfff) throw new Error(`#GP: INVPCID descriptor PCID ${pcid} exceeds 12 bits`);
  switch (op.type) {
    case 0:
      if (va === undefined) throw new Error('INVPCID type 0 needs a linear address');
      return (e) => !e.global && e.pcid === pcid && covers(e, va);
    case 1: return (e) => !e.global && e.pcid === pcid;
    case 2: return everything;
    case 3: return (e) => !e.global;
  }
}
