// TLBI scopes for the EL1&0 regime: Arm ARM D8.17.5 "TLB maintenance
// instructions" (I_DMCXY, R_VMSWQ, R_ZSXRQ, R_JXKNN); Sail `TLBIOp_VA`,
// `TLBIOp_VAA`, `TLBIOp_ASID`, `TLBIOp_VMALL` with `TLBILevel_Last` for the
// L forms, which leave walk-cache (non-final level) entries alone.

import type { Op } from './ops.ts';
import { entrySize, type TlbEntry } from './tlb.ts';
import { walkEntryCovers, type WalkEntry } from './walkcache.ts';

/** A TLBI issued but not yet known complete on `target` (R_YNJCP). */
export interface PendingTlbi {
  /** PE that executed the TLBI; its DSB completes it. */
  readonly issuer: number;
  /** PE whose TLB it applies to. */
  readonly target: number;
  readonly op: Extract<Op, { op: 'tlbi' }>;
  /** Issue order: only entries filled before it are guaranteed removed. */
  readonly seq: number;
}

const coversVa = (e: TlbEntry, va: number | undefined): boolean =>
  va !== undefined && va >= e.vaBase && va < e.vaBase + entrySize(e);

/** Does TLBI `op` apply to final-level entry `e`? */
export function tlbiMatches(op: Extract<Op, { op: 'tlbi' }>, e: TlbEntry): boolean {
  switch (op.type) {
    // VA{L}: non-global entries with the supplied ASID, and global entries, for the address.
    case 'VAE1': case 'VALE1': return coversVa(e, op.va) && (e.asid === undefined || e.asid === op.asid);
    // VAA{L}: global and non-global entries with any ASID, for the address.
    case 'VAAE1': case 'VAALE1': return coversVa(e, op.va);
    // ASID: non-global entries with the supplied ASID; global entries stay.
    case 'ASIDE1': return e.asid !== undefined && e.asid === op.asid;
    // VMALL: every stage 1 entry of the regime.
    case 'VMALLE1': return true;
  }
}

/**
 * Does TLBI `op` apply to walk-cache entry `e`? Walk-cache entries are
 * non-global (R_CHVGJ). VA and VAA reach every level; the L forms only the
 * final level. Choice: ASID is taken to reach every level, as VMALL does;
 * the quoted text (docs/sources/arm64-asid-and-arm-arm.md §3e) says "final lookup level" and is
 * flagged there as possibly garbled, so this is the weaker assumption for
 * finding stale walk caches only if it is wrong in Linux's favour.
 */
export function tlbiMatchesWalk(op: Extract<Op, { op: 'tlbi' }>, e: WalkEntry): boolean {
  switch (op.type) {
    case 'VAE1': return op.va !== undefined && walkEntryCovers(e, op.va) && e.asid === op.asid;
    case 'VAAE1': return op.va !== undefined && walkEntryCovers(e, op.va);
    case 'VALE1': case 'VAALE1': return false;
    case 'ASIDE1': return e.asid === op.asid;
    case 'VMALLE1': return true;
  }
}
