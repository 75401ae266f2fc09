// The x86-64 4-level paging walk (Intel SDM Vol. 3A §4.5, "4-Level Paging"),
// 4 KiB, 2 MiB and 1 GiB pages. Pure: a fault is returned as a value, never
// thrown. Access rights combine over every level as §4.6.1 says: U/S and R/W
// must be 1 in every entry, XD in any entry forbids fetches. PCIDs and the
// TLB are not involved here (tlb.ts, machine.ts).
// Not modelled: the processor setting A and D (§4.8), the paging-structure
// caches (§4.10.3), 5-level paging, reserved-bit faults other than PS in a
// PML4E.

import { alignDown, isUpper, type VA } from '../va.ts';
import { isLeaf, isTable, levelShift, levelSize, PAGE_SIZE, type X86Pte } from './pte.ts';

/** Reads one paging-structure entry: physical memory as the walker sees it. */
export type ReadPte = (table: number, index: number) => X86Pte;

/** Access rights of a translation, combined over all four levels (SDM §4.6.1). */
export interface X86Perms {
  /** User-mode (CPL 3) accesses allowed: U/S = 1 in every entry. */
  readonly user: boolean;
  /** Writes allowed: R/W = 1 in every entry (CR0.WP = 1, so this binds supervisor writes too). */
  readonly write: boolean;
  /** Execute-disable: XD = 1 in some entry (IA32_EFER.NXE = 1). */
  readonly nx: boolean;
}

/** One entry a walk read (ghost provenance). */
export interface X86WalkStep {
  /** Physical address of the paging structure. */
  readonly table: number;
  /** Index of the entry in it. */
  readonly index: number;
  /** Its level (0 = PML4 ... 3 = PT). */
  readonly level: number;
  /** Ghost: the structure frame's allocation epoch, set when an entry is cached (a freed and reused frame is another table). */
  readonly epoch?: number;
}

/** A successful translation. */
export interface X86WalkOk {
  readonly kind: 'ok';
  /** Physical address of the 4 KiB page holding `va` (the model works in whole pages). */
  readonly pa: number;
  /** First VA the leaf maps. */
  readonly vaBase: VA;
  /** Leaf level: 1 (1 GiB page), 2 (2 MiB page) or 3 (4 KiB page). */
  readonly level: number;
  /** Bytes the leaf maps. */
  readonly size: number;
  /** The entry that maps the page. */
  readonly leaf: X86Pte;
  /** Access rights combined over the walk. */
  readonly perms: X86Perms;
  /** The PML4 table walked (CR3 bits 51:12). */
  readonly root: number;
  /** The entries read, level by level; the last one is the leaf. */
  readonly path: readonly X86WalkStep[];
}

/**
 * A failed translation: `not-present` (some entry has P = 0: a #PF with
 * error code P = 0, §4.7), `reserved` (PS = 1 in a PML4E: a #PF with RSVD =
 * 1), or `non-canonical` (VA[47] differs from VA[63:48]: a #GP, SDM Vol. 1 §3.3.7.1;
 * va.ts keeps VA[63:48] a copy of VA[48], so only bit 47 can disagree).
 */
export interface X86WalkFault {
  readonly kind: 'fault';
  /** Why the walk stopped (see above). */
  readonly reason: 'not-present' | 'reserved' | 'non-canonical';
  /** Level of the entry that stopped the walk (0 for a non-canonical VA). */
  readonly level: number;
  /** The PML4 table walked. */
  readonly root: number;
  /** The entries read, the faulting one last (empty for a non-canonical VA). */
  readonly path: readonly X86WalkStep[];
}

export type X86WalkResult = X86WalkOk | X86WalkFault;

/** Index of `va`'s entry at `level`: VA[47:39], VA[38:30], VA[29:21], VA[20:12]. */
export const tableIndex = (va: VA, level: number): number => Math.floor(va / 2 ** levelShift(level)) % 512;

/** x86-64 canonical form with 48-bit linear addresses: bits 63:47 all equal. */
export const isCanonical = (va: VA): boolean => (tableIndex(va, 0) >= 256) === isUpper(va);

/** All-permissive rights, narrowed level by level. */
const ALL: X86Perms = { user: true, write: true, nx: false };

/** Translate `va` through the paging structures rooted at `root` (the PML4 table in CR3). */
export function walk(read: ReadPte, root: number, va: VA): X86WalkResult {
  const path: X86WalkStep[] = [];
  if (!isCanonical(va)) return { kind: 'fault', reason: 'non-canonical', level: 0, root, path };
  let { user, write, nx } = ALL, table = root;
  for (let level = 0; level <= 3; level++) {
    const index = tableIndex(va, level);
    path.push({ table, index, level });
    const e = read(table, index);
    if (!e.P) return { kind: 'fault', reason: 'not-present', level, root, path };
    user &&= e.US; write &&= e.RW; nx ||= e.NX;
    if (isTable(e, level)) { table = e.addr; continue; }
    if (!isLeaf(e, level)) return { kind: 'fault', reason: 'reserved', level, root, path };
    const size = levelSize(level), vaBase = alignDown(va, size);
    // A PTE's PS bit is PAT (pte.ts): a level-3 entry is a 4 KiB page whatever bit 7 holds.
    const base = alignDown(e.addr, size);
    return { kind: 'ok', pa: base + alignDown(va - vaBase, PAGE_SIZE), vaBase, level, size, leaf: e, perms: { user, write, nx }, root, path };
  }
  /* c8 ignore next */
  throw new Error('unreachable: a present level-3 entry is a leaf');
}
