// A per-CPU x86 TLB (Intel SDM Vol. 3A §4.10.2). An entry is associated with
// the PCID current when it was filled (§4.10.1, x86-pti.md §7a); a global
// entry (G = 1 with CR4.PGE = 1) may translate under any PCID (§4.10.2.4,
// §7b). Faulting walks are never cached (machine.ts). Indexed by (level, VA
// base), so a lookup touches three buckets.
// Not modelled: the paging-structure caches (§4.10.3), so a miss always walks
// from CR3; capacity (evictions are explicit workload events); separate
// instruction and data TLBs; fracturing a large page into smaller entries
// (§4.10.2.3), which INVLPG and #PF treat as one page anyway.

import { LevelCache } from '../levelcache.ts';
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

export const entrySize = (e: X86TlbEntry): number => levelSize(e.level);
/** PA of the 4 KiB page that `e` gives for `va`. */
export const entryPa = (e: X86TlbEntry, va: VA): number => e.pa + alignDown(va - e.vaBase, PAGE_SIZE);
/** `e` covers `va` (is for its page number, whatever its PCID). */
export const covers = (e: X86TlbEntry, va: VA): boolean => va >= e.vaBase && va < e.vaBase + entrySize(e);

/** True when `e` may translate `va` with current PCID `pcid` (§4.10.2.4: a global entry under any PCID). */
export const hits = (e: X86TlbEntry, va: VA, pcid: number): boolean => covers(e, va) && (e.global || e.pcid === pcid);

/** How an entry's tag prints in reports: `pcid=0x801` or `global`. */
export const tagText = (e: X86TlbEntry): string => (e.global ? 'global' : `pcid=0x${e.pcid.toString(16)}`);

export class X86Tlb extends LevelCache<X86TlbEntry> {
  constructor() { super(levelSize); }

  clone(): X86Tlb { return this.copyInto(new X86Tlb()); }

  /** Every entry that may translate `va` under current PCID `pcid`. */
  lookup(va: VA, pcid: number): X86TlbEntry[] {
    const out: X86TlbEntry[] = [];
    for (let level = 1; level <= 3; level++) for (const e of this.holding(va, level)) if (e.global || e.pcid === pcid) out.push(e);
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
        this.replace(old, e);
        replaced = true;
        continue;
      }
      const va = Math.max(old.vaBase, e.vaBase);
      if (entryPa(old, va) !== entryPa(e, va)) conflicts.push(old);
    }
    if (!replaced) this.add(e);
    return conflicts;
  }

  /** Entries overlapping `e`'s VA range that share a context with it (same PCID, or either global). */
  private overlapping(e: X86TlbEntry): X86TlbEntry[] {
    const out: X86TlbEntry[] = [];
    const shares = (o: X86TlbEntry): boolean => o.global || e.global || o.pcid === e.pcid;
    // Entries as large as `e` or larger that cover it sit in one bucket per level.
    for (let l = 1; l <= e.level; l++) for (const o of this.holding(e.vaBase, l)) if (shares(o)) out.push(o);
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
