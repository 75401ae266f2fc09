// /sys/kernel/debug/kernel_page_tables for the model: arch/arm64/mm/ptdump.c
// (arch/arm64/mm/dump.c before v5.x), in its 4.x form, which matches the
// kernel the model reproduces: `walk_pgd`/`walk_pud`/`walk_pmd`/`walk_pte`
// call `note_page` for every empty or leaf entry; `note_page` merges
// adjacent entries with the same level and the same `val & mask` (output
// addresses are not part of the prot, so they are not compared) and prints a
// range only if its prot is non-zero; `dump_prot` prints `pte_bits[]`.
// Line: "0x%016lx-0x%016lx   " "%9lu%c %s" then " %s" per prot bit.
// Format notes and real samples: test-data/ptdump (FORMAT.md in shared/ptdump).
// `parsePtdump` reads both this output and real dumps from 4.x to 6.x.

import { encode, levelShift, type Descriptor } from '../../arch/arm64/descriptor.ts';
import type { PhysMem } from '../../arch/phys.ts';

/** `VA_START` for VA_BITS=48: the lowest TTBR1 address, where the 4.x walk starts. */
export const TTBR1_BASE = 0xffff_0000_0000_0000n;

export type PtdumpLevel = 'PGD' | 'P4D' | 'PUD' | 'PMD' | 'PTE';
/** `pg_level[].name` with 4 levels (4 KiB pages, VA_BITS=48). */
const LEVEL_NAME: readonly PtdumpLevel[] = ['PGD', 'PUD', 'PMD', 'PTE'];

const bit = (n: number): bigint => 1n << BigInt(n);
const ATTRINDX_MASK = 7n << 2n;
/** `pte_bits[]` (4.x): mask, val, `set`, `clear` (absent: nothing is printed). */
const PTE_BITS: readonly (readonly [bigint, bigint, string, string?])[] = [
  [bit(0), bit(0), ' ', 'F'], // PTE_VALID
  [bit(6), bit(6), 'USR', '   '], // PTE_USER, AP[1]
  [bit(7), bit(7), 'ro', 'RW'], // PTE_RDONLY, AP[2]
  [bit(53), bit(53), 'NX', 'x '], // PTE_PXN: the kernel's execute permission
  [3n << 8n, 3n << 8n, 'SHD', '   '], // PTE_SHARED
  [bit(10), bit(10), 'AF', '  '], // PTE_AF
  [bit(11), bit(11), 'NG', '  '], // PTE_NG
  [bit(52), bit(52), 'CON', '   '], // PTE_CONT
  [bit(1), bit(1), '   ', 'BLK'], // PTE_TABLE_BIT: clear in a block
  [bit(54), bit(54), 'UXN'], // PTE_UXN: no `clear` string before v5.x
  // PTE_ATTRINDX(MT_*), the 4.x MAIR_EL1 layout (proc.S); MT_NORMAL_WT (5) has no entry.
  ...['DEVICE/nGnRnE', 'DEVICE/nGnRE', 'DEVICE/GRE', 'MEM/NORMAL-NC', 'MEM/NORMAL']
    .map((s, i) => [ATTRINDX_MASK, BigInt(i) << 2n, s] as const),
];
/** `pg_level[].mask`: the union of the `pte_bits[]` masks (`ptdump_initialize`). */
const PROT_MASK = PTE_BITS.reduce((m, [mask]) => m | mask, 0n);

/** `struct addr_marker`: a `---[ name ]---` line printed when the walk reaches `start`. */
export interface Marker { readonly start: bigint; readonly name: string }

export interface PtdumpOptions {
  /** VA of entry 0 of the root table (`info->base_addr`); default the TTBR1 half. */
  readonly base?: bigint;
  /** `address_markers[]`, in the kernel's order. */
  readonly markers?: readonly Marker[];
  /** Also print empty ranges with the level name only, as v5.x+ (generic ptdump) does. */
  readonly holes?: boolean;
}

const hex16 = (a: bigint): string => '0x' + BigInt.asUintN(64, a).toString(16).padStart(16, '0');

/** One range line; `prot` zero prints no attributes. */
function rangeLine(start: bigint, end: bigint, level: number, prot: bigint): string {
  let delta = BigInt.asUintN(64, end - start) >> 10n;
  let unit = 0;
  while ((delta & 1023n) === 0n && unit < 5) { delta >>= 10n; unit++; }
  let s = `${hex16(start)}-${hex16(end)}   ${delta.toString().padStart(9)}${'KMGTPE'[unit]} ${LEVEL_NAME[level]}`;
  if (prot === 0n) return s;
  for (const [mask, val, set, clear] of PTE_BITS) {
    const t = (prot & mask) === val ? set : clear;
    if (t !== undefined) s += ' ' + t;
  }
  return s;
}

/** The ptdump text for the tables under `root` (a level-0 table in `mem`), one line per merged range. */
export function renderPtdump(mem: PhysMem<Descriptor>, root: number, opts: PtdumpOptions = {}): string {
  const out: string[] = [];
  const markers = opts.markers ?? [];
  let m = 0;
  const nextMarker = (): bigint => markers[m + 1]?.start ?? 1n << 64n;
  let st: { start: bigint; level: number; prot: bigint } | undefined;
  const flush = (end: bigint): void => {
    if (st && (st.prot !== 0n || opts.holes)) out.push(rangeLine(st.start, end, st.level, st.prot));
  };
  const note = (addr: bigint, level: number, val: bigint): void => {
    const prot = val & PROT_MASK;
    if (!st) {
      if (markers[0]) out.push(`---[ ${markers[0].name} ]---`);
    } else if (prot !== st.prot || level !== st.level || addr >= nextMarker()) {
      flush(addr);
    } else return;
    st = { start: addr, level, prot };
    while (addr >= nextMarker()) out.push(`---[ ${markers[++m].name} ]---`);
  };
  const walk = (table: number, level: number, va: bigint): void => {
    const entries = mem.frames.get(table)?.table;
    const size = 1n << BigInt(levelShift(level));
    for (let i = 0; i < 512; i++) {
      const d = entries?.get(i);
      const addr = va + BigInt(i) * size;
      if (d?.kind === 'table' && level < 3) walk(d.NLTA, level + 1, addr);
      else note(addr, level, d ? encode(d) : 0n);
    }
  };
  walk(root, 0, opts.base ?? TTBR1_BASE);
  flush(1n << 64n); // `note_page(&st, 0, 0, 0)`: the last range ends where the address wraps to 0
  return out.map((l) => l + '\n').join('');
}

/** A range line with attributes. `end` of a range that wraps to 0x0 is 2^64. */
export interface PtdumpRecord {
  readonly start: bigint;
  readonly end: bigint;
  readonly level: PtdumpLevel;
  /** The printed attribute words: `RW`, `x` (for `x `), `NG`, `F` (v6.9-era empty ranges), `MEM/NORMAL`... */
  readonly attrs: ReadonlySet<string>;
}

const LINE = /^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +(\d+)([KMGTPE]) +(PGD|P4D|PUD|PMD|PTE)((?: .*)?)$/;

/**
 * Parse ptdump text into records: skips `#` lines, `---[ marker ]---` lines,
 * other lines not starting with `0x` (`...`), and ranges without attributes.
 * Throws on a malformed range line or one whose size column disagrees with its addresses.
 */
export function parsePtdump(text: string): PtdumpRecord[] {
  const out: PtdumpRecord[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.startsWith('#') || !line.startsWith('0x')) continue;
    const g = LINE.exec(line);
    if (!g) throw new SyntaxError(`not a ptdump range line: ${line}`);
    const start = BigInt('0x' + g[1]);
    const end = BigInt('0x' + g[2]) || 1n << 64n;
    const bytes = BigInt(g[3]) << (10n * BigInt('KMGTPE'.indexOf(g[4]) + 1));
    if (bytes !== end - start) throw new RangeError(`size ${g[3]}${g[4]} does not match ${line.slice(0, 37)}`);
    const attrs = g[6].trim().split(/\s+/).filter(Boolean);
    if (attrs.length) out.push({ start, end, level: g[5] as PtdumpLevel, attrs: new Set(attrs) });
  }
  return out;
}
