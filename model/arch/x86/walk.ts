// The x86-64 4-level page walk (Intel SDM Vol. 3A §4.5, "4-Level Paging"),
// 4 KiB / 2 MiB / 1 GiB pages. Pure: a fault is returned as a value, never
// thrown. Access rights are combined over every level as §4.6.1 says: U/S and
// R/W must be 1 in every entry (AND), XD in any entry forbids fetches (OR).
// No PCID logic here: the TLB tags what this returns (tlb.ts, machine.ts).
// Not modelled: the processor setting A and D (§4.8), paging-structure
// caches (§4.10.3), 5-level paging.

import { alignDown, type VA } from '../va.ts';
import { decode, encode, levelShift, levelSize, PAGE_SIZE, type Entry, type Leaf } from './pte.ts';

/** Reads one paging-structure entry: physical memory as the walker sees it. */
export type ReadEntry = (table: number, index: number) => Entry;

/** Access rights of a translation, combined over all levels (SDM §4.6.1). */
export interface Perms {
  /** User-mode accesses allowed: U/S = 1 in every entry. */
  readonly user: boolean;
  /** Writes allowed: R/W = 1 in every entry. */
  readonly write: boolean;
  /** Instruction fetches forbidden: XD = 1 in some entry. */
  readonly nx: boolean;
}

/** One entry a walk read (ghost provenance). */
export interface WalkStep {
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
  /** Physical address of the 4 KiB page holding the input VA (the model works in whole pages). */
  readonly pa: number;
  /** First VA the leaf maps. */
  readonly vaBase: VA;
  /** Bytes the leaf maps: 4 KiB, 2 MiB or 1 GiB. */
  readonly size: number;
  /** Leaf level: 1 (1 GiB), 2 (2 MiB) or 3 (4 KiB). */
  readonly level: number;
  /** The entry that maps the page. */
  readonly leaf: Leaf;
  /** Access rights combined over all levels. */
  readonly perms: Perms;
  /** The PML4 table walked (CR3 bits 51:12). */
  readonly root: number;
  /** The entries read, level by level; the last one is the leaf. */
  readonly path: readonly WalkStep[];
}

/** A not-present translation: some entry had P = 0 (or a reserved encoding). A #PF with error code P = 0 (SDM §4.7). */
export interface X86WalkFault {
  readonly kind: 'fault';
  /** Level of the entry that was not present. */
  readonly level: number;
  /** The PML4 table walked. */
  readonly root: number;
}

export type X86WalkResult = X86WalkOk | X86WalkFault;

/** Index of `va`'s entry in the level-`level` structure: VA[47:39], [38:30], [29:21], [20:12]. */
export const tableIndex = (va: VA, level: number): number => Math.floor(va / 2 ** levelShift(level)) % 512;

/** Translate `va` through the paging structures rooted at `root` (the PML4 table). */
export function walk(read: ReadEntry, root: number, va: VA): X86WalkResult {
  const path: WalkStep[] = [];
  let user = true, write = true, nx = false, table = root;
  for (let level = 0; level <= 3; level++) {
    const index = tableIndex(va, level);
    path.push({ table, index, level });
    const e = atLevel(read(table, index), level);
    if (e.kind === 'invalid') return { kind: 'fault', level, root };
    user &&= e.US; write &&= e.RW; nx ||= e.NX;
    if (e.kind === 'table') { table = e.addr; continue; }
    const size = levelSize(level), vaBase = alignDown(va, size);
    return { kind: 'ok', pa: e.addr + alignDown(va - vaBase, PAGE_SIZE), vaBase, size, level, leaf: e, perms: { user, write, nx }, root, path };
  }
  /* c8 ignore next */
  throw new Error('unreachable: level 3 entries decode as page or invalid');
}

/**
 * Tables hold decoded entries, but the walker reads bits: an entry stored at a
 * level where its kind cannot occur (a 'large' in a PT, where bit 7 is PAT; a
 * 'page' in a PD, where PS = 0 makes it a table reference) means whatever its
 * bits mean there (SDM Tables 4-15 to 4-20).
 */
export function atLevel(e: Entry, level: number): Entry {
  const fits = e.kind === 'invalid' || (e.kind === 'table' ? level < 3 : e.kind === 'page' ? level === 3 : level === 1 || level === 2);
  return fits ? e : decode(encode(e), level);
}
