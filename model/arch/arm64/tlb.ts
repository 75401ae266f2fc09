// A per-CPU TLB for the EL1&0 stage 1 regime. Arm ARM D8.16 "Translation
// Lookaside Buffers": entries are tagged by ASID when nG is set and match
// every ASID otherwise (R_QGKGF, R_XXNPZ); faulting walks are never cached
// (R_XCLRD). Indexed by (level, VA base) so a lookup touches three buckets.
// Not modelled: capacity (evictions are explicit workload events), VMID and
// security state (one regime), Contiguous-hint coalescing.

import { LevelCache } from '../levelcache.ts';
import { alignDown, type VA } from '../va.ts';
import { levelSize, type Leaf } from './descriptor.ts';
import type { Perms, WalkStep } from './walk.ts';
import { bbmReason } from './bbm.ts';

/** A cached leaf translation: ASL `TLBRecord` plus ghost provenance. */
export interface TlbEntry {
  /** First VA covered. */
  readonly vaBase: VA;
  /** Leaf level (1-3); the entry covers `levelSize(level)` bytes. */
  readonly level: number;
  /** PA that `vaBase` maps to. */
  readonly oa: number;
  /** ASID tag, or undefined for a global (nG = 0) entry. */
  readonly asid: number | undefined;
  /** The leaf descriptor that was cached. */
  readonly leaf: Leaf;
  /** Effective permissions at fill time. */
  readonly perms: Perms;
  /** Ghost: root table the walk started from. */
  readonly root: number;
  /** Ghost: the root's name at fill time (`swapper_pg_dir`, `pgd(mm 3)`): whose tables these are. */
  readonly owner: string;
  /** Ghost: the leaf's table entry (table PA and index). */
  readonly from: WalkStep;
  /** Ghost: fill order; a TLBI only guarantees to remove entries filled before it was issued. */
  readonly seq: number;
}

export const entrySize = (e: TlbEntry): number => levelSize(e.level);
/** PA that `e` gives for `va`. */
export const entryPa = (e: TlbEntry, va: VA): number => e.oa + alignDown(va - e.vaBase, 4096);

export class Tlb extends LevelCache<TlbEntry> {
  constructor() { super(levelSize); }

  clone(): Tlb { return this.copyInto(new Tlb()); }

  /** Every entry that may translate `va` under `asid`. */
  lookup(va: VA, asid: number): TlbEntry[] {
    const out: TlbEntry[] = [];
    for (let level = 1; level <= 3; level++) for (const e of this.holding(va, level)) if (e.asid === undefined || e.asid === asid) out.push(e);
    return out;
  }

  /**
   * Cache `e`. An identical translation already cached is replaced by `e`
   * (not duplicated), so it counts as filled now: a TLBI issued in between
   * need not remove it. Returns the entries `e` conflicts with: ones hitting
   * some VA in a shared context whose replacement by `e` would have needed
   * break-before-make.
   */
  insert(e: TlbEntry): TlbEntry[] {
    const conflicts: TlbEntry[] = [];
    for (const old of this.overlapping(e)) {
      if (same(old, e)) {
        this.replace(old, e);
        return [];
      }
      const va = Math.max(old.vaBase, e.vaBase);
      const reason = bbmReason({ leaf: old.leaf, size: entrySize(old), pa: entryPa(old, va) },
        { leaf: e.leaf, size: entrySize(e), pa: entryPa(e, va) });
      if (reason !== undefined) conflicts.push(old);
    }
    this.add(e);
    return conflicts;
  }

  /** Entries overlapping `e`'s VA range that share a context with it (same ASID, or either global). */
  private overlapping(e: TlbEntry): TlbEntry[] {
    const out: TlbEntry[] = [];
    for (const o of this.entries()) {
      if (o.vaBase < e.vaBase + entrySize(e) && e.vaBase < o.vaBase + entrySize(o)
        && (o.asid === undefined || e.asid === undefined || o.asid === e.asid)) out.push(o);
    }
    return out;
  }
}

/** Same cached translation: same range, tag, output and descriptor provenance. */
function same(a: TlbEntry, b: TlbEntry): boolean {
  return a.vaBase === b.vaBase && a.level === b.level && a.asid === b.asid && a.oa === b.oa
    && a.perms.el0 === b.perms.el0 && a.perms.write === b.perms.write && a.perms.uxn === b.perms.uxn
    && a.perms.pxn === b.perms.pxn && a.leaf.AttrIndx === b.leaf.AttrIndx && a.leaf.SH === b.leaf.SH
    && a.leaf.Contiguous === b.leaf.Contiguous;
}
