// x86-64 paging-structure entries, 4-level paging (Intel SDM Vol. 3A §4.5,
// Tables 4-15 to 4-20). Bit names follow the SDM (P, R/W, U/S, PWT, PCD, A,
// D, PS, G, XD) and the kernel's arch/x86/include/asm/pgtable_types.h
// (docs/sources/x86-pti.md §1a-1c). Encoding lives here and only here.
//
// Levels are numbered as arm64's are, so shared code can use them:
// 0 = PML4 (pgd, 512 GiB per entry), 1 = PDPT (pud, 1 GiB), 2 = PD (pmd,
// 2 MiB), 3 = PT (pte, 4 KiB). With 4-level paging the p4d level is folded.
//
// An entry is one flat record: unlike an Arm descriptor, its bits mean the
// same at every level except bit 7 (PS at levels 1-2, PAT in a PTE), so the
// level decides the reading (`isTable`, `isLeaf`), not a stored kind.
// Simplifications: PAT (bit 7 of a PTE, bit 12 of a large-page entry), the
// protection key (bits 62:59, ignored with CR4.PKE = 0) and the software
// bits 9-11, 52-58 are not modelled; decode drops them. Reserved bits of a
// large page's address field (a #PF with RSVD set) are masked, not faulted.

/** A decoded paging-structure entry (PML4E, PDPTE, PDE or PTE). */
export interface X86Pte {
  /** P, bit 0 (`_PAGE_PRESENT`): the entry is used for translation; with P = 0 the walker ignores every other bit. */
  readonly P: boolean;
  /** R/W, bit 1 (`_PAGE_RW`): writes allowed in the region it controls (§4.6). */
  readonly RW: boolean;
  /** U/S, bit 2 (`_PAGE_USER`): user-mode (CPL 3) accesses allowed in the region it controls. */
  readonly US: boolean;
  /** PWT, bit 3 (`_PAGE_PWT`): page-level write-through. */
  readonly PWT: boolean;
  /** PCD, bit 4 (`_PAGE_PCD`): page-level cache disable. */
  readonly PCD: boolean;
  /** A, bit 5 (`_PAGE_ACCESSED`): accessed (the processor's update is not modelled, §4.8). */
  readonly A: boolean;
  /** D, bit 6 (`_PAGE_DIRTY`): dirty; ignored in an entry that references a table. */
  readonly D: boolean;
  /** PS, bit 7 (`_PAGE_PSE`): at levels 1-2 the entry maps a 1 GiB / 2 MiB page; reserved at level 0; always false at level 3 (bit 7 is PAT there). */
  readonly PS: boolean;
  /** G, bit 8 (`_PAGE_GLOBAL`): global translation when CR4.PGE = 1 (§4.10.2.4); ignored in an entry that references a table. */
  readonly G: boolean;
  /** XD, bit 63 (`_PAGE_NX`): instruction fetches forbidden in the region it controls (IA32_EFER.NXE = 1). */
  readonly NX: boolean;
  /** Physical address of the next-level table, or of the page it maps (aligned to the page size). */
  readonly addr: number;
}

/** An all-zero entry (`native_pte_clear`, `pte_none`). */
export const NOT_PRESENT: X86Pte = Object.freeze({
  P: false, RW: false, US: false, PWT: false, PCD: false, A: false, D: false, PS: false, G: false, NX: false, addr: 0,
});

// Masks from pgtable_types.h (x86-pti.md §1b), as 64-bit values.
export const _PAGE_PRESENT = 1n << 0n;
export const _PAGE_RW = 1n << 1n;
export const _PAGE_USER = 1n << 2n;
export const _PAGE_PWT = 1n << 3n;
export const _PAGE_PCD = 1n << 4n;
export const _PAGE_ACCESSED = 1n << 5n;
export const _PAGE_DIRTY = 1n << 6n;
export const _PAGE_PSE = 1n << 7n;
export const _PAGE_GLOBAL = 1n << 8n;
export const _PAGE_NX = 1n << 63n;
/** `PTE_PFN_MASK`: bits 51:12 (`PHYSICAL_PAGE_MASK` with `__PHYSICAL_MASK_SHIFT` = 52). */
export const PTE_PFN_MASK = ((1n << 52n) - 1n) & ~0xfffn;

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Lowest VA bit resolved at `level`: level 0 (PML4) resolves VA[47:39], level 3 (PT) VA[20:12]. */
export const levelShift = (level: number): number => PAGE_SHIFT + 9 * (3 - level);
const SIZES = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
/** Bytes controlled by one entry at `level`: 512 GiB, 1 GiB, 2 MiB, 4 KiB. */
export const levelSize = (level: number): number => SIZES[level];
/** The kernel's names for the levels (`pgd`, `pud`, `pmd`, `pte`), as dump_pagetables.c prints them. */
export const LEVEL_NAME = ['pgd', 'pud', 'pmd', 'pte'] as const;

/** The entry references a next-level table (SDM Tables 4-15, 4-17, 4-19: P = 1 and PS = 0 above the PT). */
export const isTable = (pte: X86Pte, level: number): boolean => pte.P && !pte.PS && level < 3;
/** The entry maps a page: a PTE, or a PDPTE/PDE with PS = 1 (Tables 4-16, 4-18, 4-20). PS in a PML4E is reserved. */
export const isLeaf = (pte: X86Pte, level: number): boolean => pte.P && (level === 3 || (pte.PS && (level === 1 || level === 2)));
/** `pte_none`: the all-zero entry (PhysMem drops it from the table; other non-present values are kept). */
export const isNone = (pte: X86Pte): boolean => !(pte.P || pte.RW || pte.US || pte.PWT || pte.PCD || pte.A || pte.D || pte.PS || pte.G || pte.NX || pte.addr);
/** For `PhysMem`'s shape counter, which does not know levels: an entry that may reference a table. */
export const mayBeTable = (pte: X86Pte): boolean => pte.P && !pte.PS;

const flag = (v: bigint, mask: bigint): boolean => (v & mask) !== 0n;

/**
 * Decode the 64-bit value `v` read at `level`. Every modelled bit is kept
 * even when P = 0 (Linux keeps `_PAGE_PROTNONE` and swap entries there).
 * At level 3 bit 7 is PAT, so PS decodes as false; a large page's address is
 * aligned to its size (bit 12 is PAT there).
 */
export function decode(v: bigint, level: number): X86Pte {
  const PS = level < 3 && flag(v, _PAGE_PSE);
  const large = PS && (level === 1 || level === 2);
  const mask = large ? PTE_PFN_MASK & ~(BigInt(levelSize(level)) - 1n) : PTE_PFN_MASK;
  return {
    P: flag(v, _PAGE_PRESENT), RW: flag(v, _PAGE_RW), US: flag(v, _PAGE_USER), PWT: flag(v, _PAGE_PWT),
    PCD: flag(v, _PAGE_PCD), A: flag(v, _PAGE_ACCESSED), D: flag(v, _PAGE_DIRTY), PS, G: flag(v, _PAGE_GLOBAL),
    NX: flag(v, _PAGE_NX), addr: Number(v & mask),
  };
}

/** The real 64-bit value of an entry. Throws on an address the format cannot hold (not 4 KiB aligned, or above bit 51). */
export function encode(pte: X86Pte): bigint {
  if (!Number.isInteger(pte.addr) || pte.addr < 0 || pte.addr >= 2 ** 52 || pte.addr % PAGE_SIZE !== 0) {
    throw new RangeError(`entry address ${hex(pte.addr)} is not a 4 KiB-aligned 52-bit physical address`);
  }
  return BigInt(pte.addr) | (pte.P ? _PAGE_PRESENT : 0n) | (pte.RW ? _PAGE_RW : 0n) | (pte.US ? _PAGE_USER : 0n)
    | (pte.PWT ? _PAGE_PWT : 0n) | (pte.PCD ? _PAGE_PCD : 0n) | (pte.A ? _PAGE_ACCESSED : 0n) | (pte.D ? _PAGE_DIRTY : 0n)
    | (pte.PS ? _PAGE_PSE : 0n) | (pte.G ? _PAGE_GLOBAL : 0n) | (pte.NX ? _PAGE_NX : 0n);
}

/** An entry with the given flags set and the rest clear. */
export const pte = (addr: number, flags: Partial<Omit<X86Pte, 'addr'>> = {}): X86Pte => ({ ...NOT_PRESENT, P: true, ...flags, addr });

/**
 * One line as arch/x86/mm/dump_pagetables.c `printk_prot()` spells the bits
 * (`USR`, `RW`/`ro`, `PWT`, `PCD`, `PSE`, `GLB`, `NX`/`x`), then the level
 * name and the address: `USR RW NX pte pa=0x3000000`. A table entry says
 * `table` before its address; a non-present one prints its raw value.
 */
export function describe(e: X86Pte, level: number): string {
  const name = LEVEL_NAME[level];
  if (!e.P) return `${name} not present${isNone(e) ? '' : ` (${hex(encode(e))})`}`;
  const leaf = isLeaf(e, level);
  const flags = [e.US && 'USR', e.RW ? 'RW' : 'ro', e.PWT && 'PWT', e.PCD && 'PCD', e.PS && 'PSE', leaf && e.G && 'GLB', e.NX ? 'NX' : 'x'];
  const what = leaf ? '' : isTable(e, level) ? ' table' : ' reserved';
  return `${flags.filter(Boolean).join(' ')} ${name}${what} pa=${hex(e.addr)}`;
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);
