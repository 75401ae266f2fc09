// Per-CPU caching of table descriptors (Arm ARM D8.16: "intermediate TLB
// caching structures", the walk cache). Entries from levels above the final
// one are treated as non-global (R_CHVGJ), so every entry is tagged with the
// ASID current when it was cached, and matched by ASID and VA only: the
// hardware does not compare the TTBR, which is why a stale walk-cache entry
// can outlive a change of tables under one ASID.

import type { VA } from '../va.ts';
import { alignDown } from '../va.ts';
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

export class WalkCache {
  private readonly entries = new Map<number, WalkEntry[]>();
  size = 0;
  /** `all()`, kept until the next change. */
  private flat?: WalkEntry[];

  /** An independent copy (entries are immutable and shared). */
  clone(): WalkCache {
    const w = new WalkCache();
    for (const [k, b] of this.entries) w.entries.set(k, [...b]);
    w.size = this.size;
    return w;
  }

  /** The deepest cached table descriptor for `va` under `asid`, and any others at that level that disagree. */
  deepest(va: VA, asid: number): WalkEntry[] {
    for (let level = 2; level >= 0; level--) {
      const b = this.entries.get(key(alignDown(va, levelSize(level)), level))?.filter((e) => e.asid === asid);
      if (b?.length) return b;
    }
    return [];
  }

  /** Cache `e` (replacing an identical one); returns the cached entries it conflicts with (same VA range and ASID, another table). */
  insert(e: WalkEntry): WalkEntry[] {
    const k = key(e.vaBase, e.level);
    const b = this.entries.get(k) ?? [];
    const same = b.findIndex((x) => x.asid === e.asid && x.next === e.next);
    this.flat = undefined;
    if (same >= 0) { b[same] = e; return []; }
    const conflicts = b.filter((x) => x.asid === e.asid);
    b.push(e);
    this.entries.set(k, b);
    this.size++;
    return conflicts;
  }

  /** Entries at `level` covering [va, va+size) under `asid`: table descriptors a block at that level contradicts. */
  at(vaBase: VA, level: number, asid: number | undefined): WalkEntry[] {
    return (this.entries.get(key(vaBase, level)) ?? []).filter((x) => asid === undefined || x.asid === asid);
  }

  /** Remove entries matching `pred` cached before `seq`. */
  invalidate(pred: (e: WalkEntry) => boolean, seq: number): number {
    let n = 0;
    for (const [k, b] of this.entries) {
      const keep = b.filter((e) => !(e.seq < seq && pred(e)));
      n += b.length - keep.length;
      if (keep.length === 0) this.entries.delete(k); else if (keep.length !== b.length) this.entries.set(k, keep);
    }
    this.size -= n;
    if (n) this.flat = undefined;
    return n;
  }

  /** Every entry (a shared array: do not modify). */
  all(): readonly WalkEntry[] { return (this.flat ??= [...this.entries.values()].flat()); }
}

const key = (vaBase: VA, level: number): number => vaBase * 4 + level;
