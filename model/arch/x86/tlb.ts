// A per-CPU x86 TLB (Intel SDM Vol. 3A §4.10.2). An entry is associated with
// the PCID current when it was filled (§4.10.1, x86-pti.md §7a); a global
// entry (G = 1 with CR4.PGE = 1) may translate under any PCID (§4.10.2.4,
// §7b). Faulting walks are never cached (machine.ts). Indexed by (level, VA
// base), so a lookup touches three buckets.
// Not modelled: the paging-structure caches (§4.10.3), so a miss always walks
// from CR3; capacity (evictions are explicit workload events); separate
// instruction and data TLBs; fracturing a large page into smaller entries
// (§4.10.2.3), which INVLPG and #PF treat as one page anyway.

import { alignDown, type VA } from '../va.ts';
import { levelSize, PAGE_SIZE, type X86Pte } from './pte.ts';
import type { X86Perms, X86WalkStep } from './walk.ts';

/** A cached translation plus ghost provenance. */
export interface X86TlbEntry {
  /** First VA covered (the page number, §4.10.2.2). */
  readonly vaBase: VA;
  /** Leaf level (1-3); the entry covers `levelSize(level)` bytes. */
  readonly level: number;
  /** PA that `vaBase` maps to. */
  readonly pa: number;
  /** PCID current at fill (§4.10.1); 0 while CR4.PCIDE = 0. */
  readonly pcid: number;
  /** Global (§4.10.2.4): the leaf had G = 1 and CR4.PGE was 1 at fill; usable under every PCID. */
  readonly global: boolean;
  /** The leaf entry that was cached. */
  readonly leaf: X86Pte;
  /** Access rights combined over the walk, at fill time. */
  readonly perms: X86Perms;
  /** Ghost: the PML4 table walked (CR3 bits 51:12). */
  readonly root: number;
  /** Ghost: the root frame's name at fill (`pgd(mm 3)`, `init_top_pgt`): whose tables these are. */
  readonly owner: string;
  /** Ghost: the leaf's paging-structure entry (table PA, index, level, frame epoch). */
  readonly from: X86WalkStep;
  /** Ghost: fill order; an invalidation only removes entries filled before it. */
  readonly seq: number;
}

const key = (vaBase: VA, level: number): number => vaBase * 4 + level;
export const entrySize = (e: X86TlbEntry): number => levelSize(e.level);
/** PA of the 4 KiB page that `e` gives for `va`. */
export const entryPa = (e: X86TlbEntry, va: VA): number => e.pa + alignDown(va - e.vaBase, PAGE_SIZE);
/** `e` covers `va` (is for its page number, whatever its PCID). */
export const covers = (e: X86TlbEntry, va: VA): boolean => va >= e.vaBase && va < e.vaBase + entrySize(e);

/** True when `e` may translate `va` with current PCID `pcid` (§4.10.2.4: a global entry under any PCID). */
export const hits = (e: X86TlbEntry, va: VA, pcid: number): boolean => covers(e, va) && (e.global || e.pcid === pcid);

/** How an entry's tag prints in reports: `pcid=0x801` or `global`. */
export const tagText = (e: X86TlbEntry): string => (e.global ? 'global' : `pcid=0x${e.pcid.toString(16)}`);

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
   * Cache `e`. An identical translation already cached is replaced by `e`
   * (not duplicated), so it counts as filled now. Returns the entries `e`
   * conflicts with: overlapping entries in a shared context (same PCID, or
   * either global) that give another PA for some VA in the overlap. The SDM
   * does not make this undefined, as the Arm ARM does (the processor uses
   * one of them), but the model reports it as the arm64 TLB does.
   */
  insert(e: X86TlbEntry): X86TlbEntry[] {
    const conflicts: X86TlbEntry[] = [];
    let replaced = false;
    for (const old of this.overlapping(e)) {
      if (!replaced && same(old, e)) {
        const b = this.buckets.get(key(old.vaBase, old.level))!;
        b[b.indexOf(old)] = e;
        replaced = true;
        continue;
      }
      const va = Math.max(old.vaBase, e.vaBase);
      if (entryPa(old, va) !== entryPa(e, va)) conflicts.push(old);
    }
    if (!replaced) {
      const k = key(e.vaBase, e.level);
      const b = this.buckets.get(k);
      if (b) b.push(e); else this.buckets.set(k, [e]);
      this.size++;
    }
    this.flat = undefined;
    return conflicts;
  }

  /** Remove entries matching `pred` that were filled before `seq`. Returns how many went. */
  invalidate(pred: (e: X86TlbEntry) => boolean, seq: number): number {
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
    this.invalidate((e) => e === victim, Infinity);
    return victim;
  }

  /** Every entry (a shared array kept until the next change: do not modify). */
  entries(): readonly X86TlbEntry[] { return (this.flat ??= [...this.buckets.values()].flat()); }

  /** Entries overlapping `e`'s VA range that share a context with it (same PCID, or either global). */
  private overlapping(e: X86TlbEntry): X86TlbEntry[] {
    const out: X86TlbEntry[] = [];
    const shares = (o: X86TlbEntry): boolean => o.global || e.global || o.pcid === e.pcid;
    // Entries as large as `e` or larger that cover it sit in one bucket per level.
    for (let l = 1; l <= e.level; l++) {
      for (const o of this.buckets.get(key(alignDown(e.vaBase, levelSize(l)), l)) ?? []) if (shares(o)) out.push(o);
    }
    // Smaller entries inside a large page: scan (large-page fills are rare).
    if (e.level < 3) for (const o of this.entries()) if (o.level > e.level && covers(e, o.vaBase) && shares(o)) out.push(o);
    return out;
  }
}

/** Same cached translation: same page, tag, frame, rights and memory type (provenance aside). */
function same(a: X86TlbEntry, b: X86TlbEntry): boolean {
  return a.vaBase === b.vaBase && a.level === b.level && a.pcid === b.pcid && a.global === b.global && a.pa === b.pa
    && a.perms.user === b.perms.user && a.perms.write === b.perms.write && a.perms.nx === b.perms.nx
    && a.leaf.PWT === b.leaf.PWT && a.leaf.PCD === b.leaf.PCD;
}
