// VMSAv8-64 stage 1 translation table descriptors, 4 KiB granule.
// Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats"; field
// names follow the ASL (`AArch64.DecodeDescriptorType`) and the kernel's
// arch/arm64/include/asm/pgtable-hwdef.h. Encoding lives here and only here.

/** Descriptor bits shared by block and page (leaf) descriptors. */
export interface LeafAttrs {
  /** AttrIndx[2:0], bits [4:2]: index into MAIR_EL1 (memory type). */
  readonly AttrIndx: number;
  /** NS, bit [5]: non-secure output address. */
  readonly NS: boolean;
  /** AP[2:1], bits [7:6]: AP[1] (PTE_USER) grants EL0, AP[2] (PTE_RDONLY) forbids writes. */
  readonly AP: number;
  /** SH[1:0], bits [9:8]: shareability (3 = inner shareable, PTE_SHARED). */
  readonly SH: number;
  /** AF, bit [10]: access flag. */
  readonly AF: boolean;
  /** nG, bit [11]: not global; the entry is tagged with the current ASID. */
  readonly nG: boolean;
  /** Contiguous, bit [52]: hint that 16 adjacent entries map a contiguous range. */
  readonly Contiguous: boolean;
  /** PXN, bit [53]: privileged execute never. */
  readonly PXN: boolean;
  /** UXN, bit [54]: unprivileged execute never. */
  readonly UXN: boolean;
  /** POIndex, bits [62:60]: permission overlay index (FEAT_S1POE). */
  readonly POIndex: number;
}

/** An invalid descriptor (bit [0] clear, or a reserved encoding). */
export interface Invalid { readonly kind: 'invalid' }

/** A table descriptor (levels 0-2), pointing at the next-level table. */
export interface Table {
  readonly kind: 'table';
  /** Next-level table address, bits [47:12]: a physical address. */
  readonly NLTA: number;
  /** PXNTable, bit [59]: PXN for every lower level. */
  readonly PXNTable: boolean;
  /** UXNTable, bit [60]: UXN for every lower level. */
  readonly UXNTable: boolean;
  /** APTable[1:0], bits [62:61]: bit 0 forbids EL0, bit 1 forbids writes, below. */
  readonly APTable: number;
  /** NSTable, bit [63]. */
  readonly NSTable: boolean;
}

/** A block descriptor (levels 1-2): maps 1 GiB or 2 MiB. */
export interface Block extends LeafAttrs { readonly kind: 'block'; /** Output address, a physical address. */ readonly OA: number }

/** A page descriptor (level 3): maps 4 KiB. */
export interface Page extends LeafAttrs { readonly kind: 'page'; /** Output address, a physical address. */ readonly OA: number }

export type Leaf = Block | Page;
export type Descriptor = Invalid | Table | Leaf;

export const INVALID: Invalid = Object.freeze({ kind: 'invalid' });

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
/** Bits of VA resolved at each level, 4 KiB granule: level 0 resolves VA[47:39]. */
export const levelShift = (level: number): number => PAGE_SHIFT + 9 * (3 - level);
const SIZES = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
/** Bytes mapped by one entry at `level`. */
export const levelSize = (level: number): number => SIZES[level];

export const isLeaf = (d: Descriptor): d is Leaf => d.kind === 'block' || d.kind === 'page';

const bit = (n: number): bigint => 1n << BigInt(n);
const field = (v: bigint, lo: number, width: number): number => Number((v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));
const flag = (v: bigint, n: number): boolean => (v & bit(n)) !== 0n;
const OA_MASK = ((1n << 48n) - 1n) & ~((1n << 12n) - 1n);

/** `AArch64.DecodeDescriptorType` for a 4 KiB granule without FEAT_LPA2. */
export function decode(raw: bigint, level: number): Descriptor {
  if (!flag(raw, 0)) return INVALID;
  const tableOrPage = flag(raw, 1);
  if (level === 3) return tableOrPage ? { kind: 'page', OA: Number(raw & OA_MASK), ...decodeAttrs(raw) } : INVALID;
  if (tableOrPage) {
    return {
      kind: 'table', NLTA: Number(raw & OA_MASK), PXNTable: flag(raw, 59), UXNTable: flag(raw, 60),
      APTable: field(raw, 61, 2), NSTable: flag(raw, 63),
    };
  }
  // Level 0 blocks are reserved with a 4 KiB granule (Arm ARM D8.3.1): decode as invalid (a translation fault).
  if (level === 0) return INVALID;
  const oaMask = OA_MASK & ~(BigInt(levelSize(level)) - 1n);
  return { kind: 'block', OA: Number(raw & oaMask), ...decodeAttrs(raw) };
}

function decodeAttrs(raw: bigint): LeafAttrs {
  return {
    AttrIndx: field(raw, 2, 3), NS: flag(raw, 5), AP: field(raw, 6, 2), SH: field(raw, 8, 2),
    AF: flag(raw, 10), nG: flag(raw, 11), Contiguous: flag(raw, 52), PXN: flag(raw, 53), UXN: flag(raw, 54),
    POIndex: field(raw, 60, 3),
  };
}

/** The real 64-bit value of a decoded descriptor. */
export function encode(d: Descriptor): bigint {
  switch (d.kind) {
    case 'invalid': return 0n;
    case 'table':
      return BigInt(d.NLTA) | 0b11n | (d.PXNTable ? bit(59) : 0n) | (d.UXNTable ? bit(60) : 0n)
        | (BigInt(d.APTable) << 61n) | (d.NSTable ? bit(63) : 0n);
    case 'block': return BigInt(d.OA) | 0b01n | encodeAttrs(d);
    case 'page': return BigInt(d.OA) | 0b11n | encodeAttrs(d);
  }
}

function encodeAttrs(a: LeafAttrs): bigint {
  return (BigInt(a.AttrIndx) << 2n) | (a.NS ? bit(5) : 0n) | (BigInt(a.AP) << 6n) | (BigInt(a.SH) << 8n)
    | (a.AF ? bit(10) : 0n) | (a.nG ? bit(11) : 0n) | (a.Contiguous ? bit(52) : 0n)
    | (a.PXN ? bit(53) : 0n) | (a.UXN ? bit(54) : 0n) | (BigInt(a.POIndex) << 60n);
}

/** A table descriptor with no hierarchical restrictions, as the kernel's `__pmd_populate` writes it. */
export const tableDesc = (NLTA: number): Table =>
  ({ kind: 'table', NLTA, PXNTable: false, UXNTable: false, APTable: 0, NSTable: false });

/** Short ptdump-like text for a descriptor, as arch/arm64/mm/ptdump.c prints prot bits. */
export function describe(d: Descriptor): string {
  if (d.kind === 'invalid') return 'invalid';
  if (d.kind === 'table') return `table nlta=${hex(d.NLTA)}`;
  const ap = `${d.AP & 1 ? 'USR ' : ''}${d.AP & 2 ? 'ro' : 'RW'}`;
  return `${d.kind} oa=${hex(d.OA)} ${ap}${d.PXN ? ' NX' : ' x'}${d.AF ? ' AF' : ''}${d.nG ? ' NG' : ''}${d.UXN ? ' UXN' : ''}`;
}

export const hex = (n: number | bigint): string => '0x' + n.toString(16);
