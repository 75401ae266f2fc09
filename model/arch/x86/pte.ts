// x86-64 paging-structure entries, 4-level paging (Intel SDM Vol. 3A §4.5,
// Tables 4-14 to 4-20). Levels are numbered as walk.ts visits them: 0 = PML4,
// 1 = PDPT, 2 = PD, 3 = PT. Bit names follow the SDM (P, R/W, U/S, PWT, PCD,
// A, D, PS, G, XD) and the kernel's arch/x86/include/asm/pgtable_types.h
// (`_PAGE_BIT_*`, docs/sources/x86-pti.md §1a). Encoding lives here and only here.
//
// Simplification: PAT (bit 7 of a PTE, bit 12 of a large-page entry), the
// protection key (bits 62:59, ignored with CR4.PKE = 0) and the software bits
// are not modelled; decode drops them. Reserved bits inside a large page's
// address field (SDM: a page fault with RSVD set) are masked off rather than
// faulting. 1 GiB pages are assumed supported (CPUID.80000001H:EDX.Page1GB).

/** An entry with P (bit 0) clear, or a reserved encoding (PS set in a PML4E). */
export interface Invalid { readonly kind: 'invalid' }

/** A PML4E, PDPTE or PDE with PS clear: references the next paging structure. */
export interface Table {
  readonly kind: 'table';
  /** Bits 51:12: physical address of the next-level paging structure. */
  readonly addr: number;
  /** R/W, bit 1: clear forbids writes to the whole region it controls (SDM §4.6). */
  readonly RW: boolean;
  /** U/S, bit 2: clear forbids user-mode accesses to the whole region it controls. */
  readonly US: boolean;
  /** PWT, bit 3: page-level write-through of the next structure. */
  readonly PWT: boolean;
  /** PCD, bit 4: page-level cache disable of the next structure. */
  readonly PCD: boolean;
  /** A, bit 5: accessed (set by the processor; not modelled as an update). */
  readonly A: boolean;
  /** XD, bit 63 (`_PAGE_NX`): instruction fetches forbidden in the whole region (IA32_EFER.NXE = 1, as Linux sets it). */
  readonly NX: boolean;
}

/** An entry that maps a page: a PTE ('page', 4 KiB), or a PDPTE/PDE with PS set ('large', 1 GiB/2 MiB). */
export interface Leaf {
  /** 'page' at level 3; 'large' at level 1 (1 GiB) or 2 (2 MiB), PS = 1 (`_PAGE_PSE`). */
  readonly kind: 'page' | 'large';
  /** Physical address of the page frame, bits 51:12 (51:21 or 51:30 for a large page, aligned to its size). */
  readonly addr: number;
  /** R/W, bit 1 (`_PAGE_RW`): writes allowed. */
  readonly RW: boolean;
  /** U/S, bit 2 (`_PAGE_USER`): user-mode accesses allowed. */
  readonly US: boolean;
  /** PWT, bit 3 (`_PAGE_PWT`): page-level write-through. */
  readonly PWT: boolean;
  /** PCD, bit 4 (`_PAGE_PCD`): page-level cache disable. */
  readonly PCD: boolean;
  /** A, bit 5 (`_PAGE_ACCESSED`): accessed. */
  readonly A: boolean;
  /** D, bit 6 (`_PAGE_DIRTY`): dirty. */
  readonly D: boolean;
  /** G, bit 8 (`_PAGE_GLOBAL`): global translation when CR4.PGE = 1 (SDM §4.10.2.4). */
  readonly G: boolean;
  /** XD, bit 63 (`_PAGE_NX`): instruction fetches forbidden. */
  readonly NX: boolean;
}

export type Entry = Invalid | Table | Leaf;

export const INVALID: Invalid = Object.freeze({ kind: 'invalid' });

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Lowest VA bit that level `level` resolves: level 0 (PML4) resolves VA[47:39]. */
export const levelShift = (level: number): number => PAGE_SHIFT + 9 * (3 - level);
const SIZES = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
/** Bytes controlled by one entry at `level`: 512 GiB, 1 GiB, 2 MiB, 4 KiB. */
export const levelSize = (level: number): number => SIZES[level];

export const isLeaf = (e: Entry): e is Leaf => e.kind === 'page' || e.kind === 'large';

// `_PAGE_BIT_*` from pgtable_types.h (x86-pti.md §1a).
const P = 0n, RW = 1n, US = 2n, PWT = 3n, PCD = 4n, A = 5n, D = 6n, PS = 7n, G = 8n, NX = 63n;
const bit = (n: bigint): bigint => 1n << n;
const flag = (v: bigint, n: bigint): boolean => (v & bit(n)) !== 0n;
/** Bits 51:12: the widest address field (MAXPHYADDR = 52). */
const ADDR_MASK = ((1n << 52n) - 1n) & ~((1n << 12n) - 1n);

/** Decode the 64-bit entry `raw` read at `level` (SDM Tables 4-15, 4-16, 4-17, 4-18, 4-19, 4-20). */
export function decode(raw: bigint, level: number): Entry {
  if (!flag(raw, P)) return INVALID;
  const common = { RW: flag(raw, RW), US: flag(raw, US), PWT: flag(raw, PWT), PCD: flag(raw, PCD), A: flag(raw, A), NX: flag(raw, NX) };
  // Level 3: bit 7 is PAT (`_PAGE_BIT_PAT`), not PS.
  if (level === 3) return { kind: 'page', addr: Number(raw & ADDR_MASK), ...common, D: flag(raw, D), G: flag(raw, G) };
  // Bits 6 (D) and 8 (G) are ignored in an entry that references a paging structure.
  if (!flag(raw, PS)) return { kind: 'table', addr: Number(raw & ADDR_MASK), ...common };
  // PS is reserved in a PML4E (Table 4-15): a reserved-bit page fault, modelled as not present.
  if (level === 0) return INVALID;
  const addr = Number(raw & ADDR_MASK & ~(BigInt(levelSize(level)) - 1n));
  return { kind: 'large', addr, ...common, D: flag(raw, D), G: flag(raw, G) };
}

/** The real 64-bit value of an entry. Throws on an address the format cannot hold (misaligned, or above bit 51). */
export function encode(e: Entry): bigint {
  if (e.kind === 'invalid') return 0n;
  const align = e.kind === 'large' ? levelSize(2) : PAGE_SIZE;
  if (!Number.isInteger(e.addr) || e.addr < 0 || e.addr >= 2 ** 52 || e.addr % align !== 0) {
    throw new RangeError(`${e.kind} entry address ${hex(e.addr)} is not a ${align / 1024} KiB-aligned 52-bit physical address`);
  }
  let v = BigInt(e.addr) | bit(P) | (e.RW ? bit(RW) : 0n) | (e.US ? bit(US) : 0n) | (e.PWT ? bit(PWT) : 0n)
    | (e.PCD ? bit(PCD) : 0n) | (e.A ? bit(A) : 0n) | (e.NX ? bit(NX) : 0n);
  if (e.kind === 'table') return v;
  v |= (e.D ? bit(D) : 0n) | (e.G ? bit(G) : 0n);
  return e.kind === 'large' ? v | bit(PS) : v;
}

/** `_PAGE_TABLE` (P RW US A; D is ignored in a table entry): a table entry for a region holding user mappings. */
export const pageTable = (addr: number): Table => ({ kind: 'table', addr, RW: true, US: true, PWT: false, PCD: false, A: true, NX: false });
/** `_KERNPG_TABLE` (P RW A): a table entry for a kernel-only region. */
export const kernpgTable = (addr: number): Table => ({ ...pageTable(addr), US: false });

const LEVEL_NAME = ['pgd', 'pud', 'pmd', 'pte'];

/**
 * The protection columns of arch/x86/mm/dump_pagetables.c `printk_prot()`
 * for an entry at `level`, column for column (/work/shared/ptdump/FORMAT.md,
 * x86): `USR ` `RW `/`ro ` `PWT ` `PCD ` `PSE ` `PAT ` `GLB ` `NX `/`x  `, then
 * the level name; 30 spaces when not present. PAT is not modelled: its column
 * is always blank. With 4-level paging the p4d level is folded, so the levels
 * print as pgd, pud, pmd, pte.
 */
export function ptdumpProt(e: Entry, level: number): string {
  if (e.kind === 'invalid') return ' '.repeat(30) + LEVEL_NAME[level];
  const col = (on: boolean, text: string, width = 4) => (on ? text : '').padEnd(width);
  return col(e.US, 'USR') + (e.RW ? 'RW ' : 'ro ') + col(e.PWT, 'PWT') + col(e.PCD, 'PCD')
    + col(e.kind === 'large', 'PSE') + col(false, 'PAT') + col(isLeaf(e) && e.G, 'GLB') + (e.NX ? 'NX ' : 'x  ') + LEVEL_NAME[level];
}

/**
 * Short text for traces: the kind, the address, then the flags that are set
 * in dump_pagetables.c's column order and spelling (`USR`, `RW`/`ro`, `PWT`,
 * `PCD`, `PSE`, `GLB`, `NX`/`x`), as arm64's `describe` does for ptdump.c.
 */
export function describe(e: Entry): string {
  if (e.kind === 'invalid') return 'invalid';
  const flags = [e.US && 'USR', e.RW ? 'RW' : 'ro', e.PWT && 'PWT', e.PCD && 'PCD', e.kind === 'large' && 'PSE', isLeaf(e) && e.G && 'GLB', e.NX ? 'NX' : 'x'];
  return `${e.kind} ${hex(e.addr)} ${flags.filter(Boolean).join(' ')}`;
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);
