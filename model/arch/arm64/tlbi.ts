// TLBI scopes for the EL1&0 regime: Arm ARM D8.17.5 "TLB maintenance
// instructions" (I_DMCXY, R_VMSWQ, R_ZSXRQ, R_JXKNN); Sail `TLBIOp_VA`,
// `TLBIOp_VAA`, `TLBIOp_ASID`, `TLBIOp_VMALL` with `TLBILevel_Last` for the L forms.
// The model caches only final-level entries so far; L and non-L forms differ
// once walk caches exist.

import type { Op } from './ops.ts';
import { entrySize, type TlbEntry } from './tlb.ts';

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
