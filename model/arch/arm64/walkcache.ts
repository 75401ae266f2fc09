// Per-CPU caching of table descriptors (Arm ARM D8.16: "intermediate TLB
// caching structures", the walk cache). Entries from levels above the final
// one are treated as non-global (R_CHVGJ), so every entry is tagged with the
// ASID current when it was cached, and matched by ASID and VA only: the
// hardware does not compare the TTBR, which is why a stale walk-cache entry
// can outlive a change of tables under one ASID.

import { LevelCache } from '../levelcache.ts';
import type { VA } from '../va.ts';
import { levelSize } from './descriptor.ts';
import type { Perms, WalkStep } from './walk.ts';

export interface WalkEntry {
  /** First VA covered by the table descriptor (`levelSize(level)` bytes). */
  readonly vaBase: VA;
  /** Level of the table descriptor (0-2). */
  readonly level: number;
  /** The next-level table it points at. */
  readonly next: number;
  /** ASID tag. */
  readonly asid: number;
  /** Hierarchical permissions accumulated down to it. */
  readonly perms: Perms;
  /** Ghost: where the descriptor was, and whose tables (root name) at fill time. */
  readonly from: WalkStep;
  readonly owner: string;
  /** Ghost: fill order, as for TLB entries. */
  readonly seq: number;
}

export const walkEntryCovers = (e: WalkEntry, va: VA): boolean => va >= e.vaBase && va < e.vaBase + levelSize(e.level);

export class WalkCache extends LevelCache<WalkEntry> {
  constructor() { super(levelSize); }

  clone(): WalkCache { return this.copyInto(new WalkCache()); }

  /** The deepest cached table descriptor for `va` under `asid`, and any others at that level that disagree. */
  deepest(va: VA, asid: number): WalkEntry[] {
    for (let level = 2; level >= 0; level--) {
      const b = this.holding(va, level).filter((e) => e.asid === asid);
      if (b.length) return b;
    }
    return [];
  }

  /** Cache `e` (replacing an identical one); returns the cached entries it conflicts with (same VA range and ASID, another table). */
  insert(e: WalkEntry): WalkEntry[] {
    const b = this.bucket(e.vaBase, e.level);
    const same = b.find((x) => x.asid === e.asid && x.next === e.next);
    if (same) { this.replace(same, e); return []; }
    const conflicts = b.filter((x) => x.asid === e.asid);
    this.add(e);
    return conflicts;
  }

  /** Entries at `level` covering [va, va+size) under `asid`: table descriptors a block at that level contradicts. */
  at(vaBase: VA, level: number, asid: number | undefined): WalkEntry[] {
    return this.bucket(vaBase, level).filter((x) => asid === undefined || x.asid === asid);
  }
}
