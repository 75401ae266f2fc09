// The mechanics the per-CPU translation caches share (arm64 and x86 TLBs,
// the arm64 walk cache): entries indexed by (level, VA base), so a lookup
// touches one bucket per level; invalidation by predicate of entries cached
// before a sequence number (an invalidation only has to remove what was
// filled before it); eviction by fill order, which the workload picks.
// What an entry is tagged with, and what conflicts, stays with each cache.

import { alignDown, type VA } from './va.ts';

export interface LevelEntry {
  /** First VA covered. */
  readonly vaBase: VA;
  /** Translation level of the cached entry; it covers `levelSize(level)` bytes. */
  readonly level: number;
  /** Ghost: fill order. */
  readonly seq: number;
}

const key = (vaBase: VA, level: number): number => vaBase * 4 + level;

export class LevelCache<E extends LevelEntry> {
  private readonly buckets = new Map<number, E[]>();
  /** Number of entries. */
  size = 0;
  /** `entries()`, kept until the next change (invariants read it after every step). */
  private flat?: E[];

  /** @param levelSize bytes an entry at each level covers. */
  constructor(protected readonly levelSize: (level: number) => number) {}

  /** Fill `into` with this cache's entries (entries are immutable and shared). */
  protected copyInto<T extends LevelCache<E>>(into: T): T {
    for (const [k, b] of this.buckets) into.buckets.set(k, [...b]);
    into.size = this.size;
    return into;
  }

  /** Entries for exactly the range of a level-`level` entry at `vaBase`. */
  bucket(vaBase: VA, level: number): readonly E[] { return this.buckets.get(key(vaBase, level)) ?? []; }

  /** Entries at `level` whose range holds `va`. */
  holding(va: VA, level: number): readonly E[] { return this.bucket(alignDown(va, this.levelSize(level)), level); }

  protected add(e: E): void {
    const k = key(e.vaBase, e.level), b = this.buckets.get(k);
    if (b) b.push(e); else this.buckets.set(k, [e]);
    this.size++;
    this.flat = undefined;
  }

  /** Put `e` in the place of `old` (same bucket): an identical translation counts as filled now. */
  protected replace(old: E, e: E): void {
    const b = this.buckets.get(key(old.vaBase, old.level))!;
    b[b.indexOf(old)] = e;
    this.flat = undefined;
  }

  /** Remove entries matching `pred` that were filled before `seq`. Returns how many went. */
  invalidate(pred: (e: E) => boolean, seq: number): number {
    let n = 0;
    for (const [k, b] of this.buckets) {
      const keep = b.filter((e) => !(e.seq < seq && pred(e)));
      n += b.length - keep.length;
      if (keep.length === 0) this.buckets.delete(k); else if (keep.length !== b.length) this.buckets.set(k, keep);
    }
    this.size -= n;
    if (n) this.flat = undefined;
    return n;
  }

  /** Evict the entry at position `n` (mod size) in fill order. */
  evict(n: number): E | undefined {
    if (this.size === 0) return undefined;
    const victim = [...this.entries()].sort((a, b) => a.seq - b.seq)[n % this.size];
    this.invalidate((e) => e === victim, Infinity);
    return victim;
  }

  /** Every entry (a shared array kept until the next change: do not modify). */
  entries(): readonly E[] { return (this.flat ??= [...this.buckets.values()].flat()); }
}
