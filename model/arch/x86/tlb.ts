// A per-CPU x86 TLB (Intel SDM Vol. 3A §4.10.2). Each entry is associated
// with the PCID current when it was filled (§4.10.1); a global entry (G = 1
// with CR4.PGE = 1) may translate under any PCID (§4.10.2.4). Faulting walks
// are never cached (machine.ts). Indexed by (level, VA base), so a lookup
// touches three buckets.
// Simplification: the paging-structure caches (§4.10.3) are not modelled, so
// every TLB miss walks from CR3 and INVLPG/INVPCID/MOV to CR3 have nothing
// more to invalidate. Not modelled: capacity (evictions are explicit workload
// events), separate instruction/data TLBs, fragmentation of large pages into
// smaller TLB entries (§4.10.2.3).

import { alignDown, type VA } from '../va.ts';
import { levelSize, PAGE_SIZE, type Leaf } from './pte.ts';
import type { Perms, WalkStep } from './walk.ts';

/** A cached translation plus ghost provenance. */
export interface X86TlbEntry {
  /** First VA covered (the page number, SDM §4.10.2.2). */
  readonly vaBase: VA;
  /** Leaf level (1-3); the entry covers `levelSize(level)` bytes. */
  readonly level: number;
  /** PA that `vaBase` maps to (the leaf's page frame). */
  readonly pa: number;
  /** PCID current at fill (§4.10.1); 0 while CR4.PCIDE = 0. */
  readonly pcid: number;
  /** Global (§4.10.2.4): the leaf had G = 1 and CR4.PGE was 1 at fill; matches every PCID. */
  readonly global: boolean;
  /** The leaf entry that was cached. */
  readonly leaf: Leaf;
  /** Access rights combined over the walk, at fill time. */
  readonly perms: Perms;
  /** Ghost: the PML4 table walked (CR3 bits 51:12). */
  readonly root: number;
  /** Ghost: the root frame's name at fill (`pgd(mm 3)`, `init_top_pgt`): whose tables these are. */
  readonly owner: string;
  /** Ghost: the leaf's paging-structure entry (table PA, index, level, frame epoch). */
  readonly from: WalkStep;
  /** Ghost: fill order. */
  readonly seq: number;
}

const key = (vaBase: VA, level: number): number => vaBase * 4 + level;
export const entrySize = (e: X86TlbEntry): number => levelSize(e.level);
/** PA of the page that `e` gives for `va`. */
export const entryPa = (e: X86TlbEntry, va: VA): number => e.pa + alignDown(va - e.vaBase, PAGE_SIZE);

/** True when `e` may translate `va` with current PCID `pcid` (§4.10.2.4: a global entry matches every PCID). */
export const hits = (e: X86TlbEntry, va: VA, pcid: number): boolean =>
  va >= e.vaBase && va < e.vaBase + entrySize(e) && (e.global || e.pcid === pcid);

export class X86Tlb {
  private readonly buckets = new Map<number, X86TlbEntry[]>();
  /** Number of entries. */
  size = 0;
  /** `entries()`, kept until the next change (invariants read it after every step). */
  private flat?: X86TlbEntry[];

  /** An independent copy (entries are immutable and shared). */
  clone(): X86Tlb {
    const t = new X86Tlb();
    for (const [k, b] of this.buckets) t.buckets.set(k, [...b]);
    t.size = this.size;
    return t;
  }

  /** Every entry that may translate `va` under current PCID `pcid`. */
  lookup(va: VA, pcid: number): X86TlbEntry[] {
    const out: X86TlbEntry[] = [];
    for (let level = 1; level <= 3; level++) {
      const b = this.buckets.get(key(alignDown(va, levelSize(level)), level));
      if (b) for (const e of b) if (e.global || e.pcid === pcid) out.push(e);
    }
    return out;
  }

  /**
   * Cache `e`. An identical translation already cached (same page, tag,
   * frame and rights) is replaced by `e`, not duplicated, so it counts as
   * filled now. Differing translations for one page coexist: the machine
   * reports each as a possible outcome.
   */
  insert(e: X86TlbEntry): void {
    const k = key(e.vaBase, e.level);
    const b = this.buckets.get(k);
    this.flat = undefined;
    const i = b ? b.findIndex((o) => same(o, e)) : -1;
    if (b && i >= 0) { b[i] = e; return; }
    if (b) b.push(e); else this.buckets.set(k, [e]);
    this.size++;
  }

  /** Remove entries matching `pred` that were filled before `seq`. Returns how many went. */
  invalidate(pred: (e: X86TlbEntry) => boolean, seq = Infinity): number {
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

  /** Evict the entry at position `n` (mod size) in fill order: the workload picks which. */
  evict(n: number): X86TlbEntry | undefined {
    if (this.size === 0) return undefined;
    const victim = [...this.entries()].sort((a, b) => a.seq - b.seq)[n % this.size];
    this.invalidate((e) => e === victim);
    return victim;
  }

  /** Every entry (a shared array: do not modify). */
  entries(): readonly X86TlbEntry[] { return (this.flat ??= [...this.buckets.values()].flat()); }
}

/** Same cached translation: same page, tag, frame, rights and memory type (provenance aside). */
function same(a: X86TlbEntry, b: X86TlbEntry): boolean {
  return a.vaBase === b.vaBase && a.level === b.level && a.pcid === b.pcid && a.global === b.global && a.pa === b.pa
    && a.perms.user === b.perms.user && a.perms.write === b.perms.write && a.perms.nx === b.perms.nx
    && a.leaf.PWT === b.leaf.PWT && a.leaf.PCD === b.leaf.PCD;
}
