// Stage 1 translation table walk, 4 KiB granule, 48-bit VA, levels 0-3.
// Arm ARM D8.2 "Translation process"; ASL `AArch64.S1Walk`. Pure: a fault is
// returned as a value, never thrown. Hierarchical permissions (APTable,
// UXNTable, PXNTable) are folded as in ASL `AArch64.S1ApplyTablePerms`.

import { isUpper, alignDown, type VA } from '../va.ts';
import { decode, encode, type Descriptor, type Leaf, levelShift, levelSize, PAGE_SIZE } from './descriptor.ts';
import type { S1TTWParams } from './sysreg.ts';

/** Reads one descriptor: the physical memory as the walker sees it. */
export type ReadDesc = (table: number, index: number) => Descriptor;

/** Effective access permissions of a translation (after table bits). */
export interface Perms {
  /** EL0 may read (AP[1] and no APTable[0] on the way). */
  readonly el0: boolean;
  /** Writes permitted (no AP[2] and no APTable[1] on the way). */
  readonly write: boolean;
  /** EL0 execute never (UXN or UXNTable). */
  readonly uxn: boolean;
  /** EL1 execute never (PXN or PXNTable). */
  readonly pxn: boolean;
}

/** One step of a walk: which table entry was read (ghost provenance). */
export interface WalkStep {
  readonly table: number;
  readonly index: number;
  readonly level: number;
  /** Ghost: the table frame's allocation epoch, set when an entry is cached (a freed and reused frame is another table). */
  readonly epoch?: number;
}

/** A table descriptor a walk read: what a walk cache may keep (Arm ARM D8.16, "intermediate TLB caching"). */
export interface TableStep {
  /** Where the table descriptor was. */
  readonly at: WalkStep;
  /** Next-level table it points at. */
  readonly next: number;
  /** Hierarchical permissions accumulated down to and including it. */
  readonly perms: Perms;
}

/** Permissions before any table descriptor restricts them. */
export const NO_RESTRICTION: Perms = { el0: true, write: true, uxn: false, pxn: false };

/** A successful translation: ASL `AddressDescriptor` plus the leaf it came from. */
export interface AddressDescriptor {
  readonly kind: 'ok';
  /** Physical address of the page holding the input VA (the model works in whole pages). */
  readonly pa: number;
  /** First VA covered by the leaf. */
  readonly vaBase: VA;
  /** Bytes covered by the leaf (4 KiB, 2 MiB or 1 GiB). */
  readonly size: number;
  /** Leaf level (1-3). */
  readonly level: number;
  /** The decoded leaf descriptor. */
  readonly leaf: Leaf;
  /** Effective permissions. */
  readonly perms: Perms;
  /** Root table walked (TTBR BADDR). */
  readonly root: number;
  /** The entries read, level by level; the last one is the leaf. */
  readonly path: readonly WalkStep[];
  /** The table descriptors read on the way. */
  readonly tables: readonly TableStep[];
}

/** A failed translation: ASL `FaultRecord` (statuscode and level). */
export interface FaultRecord {
  readonly kind: 'fault';
  /** `Fault_Translation` (an invalid descriptor) or `Fault_AccessFlag` (a leaf with AF clear). */
  readonly statuscode: 'translation' | 'access-flag';
  /** Level of the invalid descriptor. */
  readonly level: number;
  /** Root table walked. */
  readonly root: number;
  /** The table descriptors read before the fault (they may be cached: R_XCLRD only excludes the faulting one). */
  readonly tables: readonly TableStep[];
}

export type WalkResult = AddressDescriptor | FaultRecord;

/** Table index of `va` at `level`. */
export const tableIndex = (va: VA, level: number): number => Math.floor(va / 2 ** levelShift(level)) % 512;

/**
 * `AArch64.S1Walk`: translate `va` from the TTBR its top bits select.
 * With SCTLR_EL1.M clear the address is flat-mapped (Arm ARM D8.2.10,
 * "the stage 1 translation is disabled"); the caller handles that case.
 */
export function s1Walk(read: ReadDesc, p: S1TTWParams, va: VA): WalkResult {
  const root = isUpper(va) ? p.ttbr1.BADDR : p.ttbr0.BADDR;
  return walkFrom(read, root, va);
}

/**
 * Walk `va` from `table` at `startLevel` (the root at level 0, or a table a
 * walk cache supplied, with the permissions accumulated above it).
 */
export function walkFrom(read: ReadDesc, root: number, va: VA, startLevel = 0, table = root, above: Perms = NO_RESTRICTION): WalkResult {
  const path: WalkStep[] = [], tables: TableStep[] = [];
  let { el0, write, uxn, pxn } = above;
  for (let level = startLevel; level <= 3; level++) {
    const index = tableIndex(va, level);
    path.push({ table, index, level });
    const d = atLevel(read(table, index), level);
    if (d.kind === 'invalid') return { kind: 'fault', statuscode: 'translation', level, root, tables };
    if (d.kind === 'table') {
      el0 &&= (d.APTable & 1) === 0; write &&= (d.APTable & 2) === 0;
      uxn ||= d.UXNTable; pxn ||= d.PXNTable;
      tables.push({ at: { table, index, level }, next: d.NLTA, perms: { el0, write, uxn, pxn } });
      table = d.NLTA;
      continue;
    }
    // R_XCLRD: an Access flag fault; Linux sets AF in every descriptor it writes (no hardware AF update here).
    if (!d.AF) return { kind: 'fault', statuscode: 'access-flag', level, root, tables };
    const size = levelSize(level);
    const vaBase = alignDown(va, size);
    const perms: Perms = { el0: el0 && (d.AP & 1) === 1, write: write && (d.AP & 2) === 0, uxn: uxn || d.UXN, pxn: pxn || d.PXN };
    return { kind: 'ok', pa: d.OA + alignDown(va - vaBase, PAGE_SIZE), vaBase, size, level, leaf: d, perms, root, path, tables };
  }
  /* c8 ignore next */
  throw new Error('unreachable: level 3 descriptors decode as page or invalid');
}

/**
 * Tables hold decoded descriptors, but the walker reads bits: a descriptor
 * stored at a level where its kind cannot occur (a page at level 2, a table
 * at level 3) means whatever its bits mean there (D8.3).
 */
export function atLevel(d: Descriptor, level: number): Descriptor {
  const fits = d.kind === 'invalid' || (d.kind === 'table' ? level < 3 : d.kind === 'page' ? level === 3 : level === 1 || level === 2);
  return fits ? d : decode(encode(d), level);
}
