// /sys/kernel/debug/page_tables/{kernel,current_kernel,current_user} for the
// model: arch/x86/mm/dump_pagetables.c (torvalds/linux@02e8a3fcb0b1, the
// v4.18-v5.4 form). `ptdump_walk_pgd_level_core` visits all 512 PGD entries
// (VA = `normalize_addr(i * PGD_LEVEL_MULT)`, sign-extended above 255), and
// `walk_pud_level`/`walk_pmd_level`/`walk_pte_level` call `note_page` for
// every none, non-present or leaf entry. `note_page` starts a new range when
// the flags (`pte_flags`: the entry without its PFN), the effective
// protection (`effective_prot`: USR and RW ANDed down the levels, NX ORed) or
// the level change, or the walk crosses the next address marker; it prints
// the finished range with `printk_prot`'s fixed-width fields and prints at
// most one marker per call. The last range ends where the address wraps to 0.
// Line: "0x%016lx-0x%016lx   " "%9lu%c " flags level-name.
// Simplified: the PAT column is always blank (PAT is not modelled, pte.ts);
// 4-level paging only, so the p4d level is folded and never printed; no
// `is_hypervisor_range` skip (the model maps nothing in the guard hole); no
// KASAN shortcut; the W+X check (`check_wx`) is not run; tables are read
// physically. Format notes and real samples: test-data/ptdump (FORMAT.md
// in shared/ptdump).

import type { PhysMem } from '../../arch/phys.ts';
import { vaBig } from '../../arch/va.ts';
import {
  _PAGE_GLOBAL, _PAGE_NX, _PAGE_PCD, _PAGE_PRESENT, _PAGE_PSE, _PAGE_PWT, _PAGE_RW, _PAGE_USER, LEVEL_NAME, PTE_PFN_MASK,
  encode, isNone, levelSize, type X86Pte,
} from '../../arch/x86/pte.ts';
import { pgdVa } from '../../arch/x86/reach.ts';
import { CPU_ENTRY_AREA_BASE, ESPFIX_BASE_ADDR, LDT_BASE_ADDR, PAGE_OFFSET, START_KERNEL_MAP } from './layout.ts';

/** `struct addr_marker`: a `---[ name ]---` line printed once the walk reaches `start`. */
export interface Marker {
  /** `start_address`, a 64-bit VA. */
  readonly start: bigint;
  /** `name`. */
  readonly name: string;
  /** `max_lines`: ranges printed in this region before `... N entries skipped ...` (0 or absent: no limit). */
  readonly maxLines?: number;
}

/**
 * `address_markers[]` for x86-64 with 4-level paging, in address order, at
 * the model's addresses (layout.ts; Documentation/x86/x86_64/mm.txt, 4.15).
 * The kernel's array puts `LDT remap` elsewhere in some versions, which
 * prints it out of place (FORMAT.md); here it is in address order.
 * `Fixmap Area` (`FIXADDR_START`) depends on the configuration; this is the
 * value in the 4.18 Fedora samples.
 */
export const ADDRESS_MARKERS: readonly Marker[] = [
  { start: 0n, name: 'User Space' },
  { start: 1n << 63n, name: 'Kernel Space' },
  { start: vaBig(PAGE_OFFSET), name: 'Low Kernel Mapping' },
  { start: 0xffffc90000000000n, name: 'vmalloc() Area' }, // VMALLOC_START
  { start: 0xffffea0000000000n, name: 'Vmemmap' }, // VMEMMAP_START
  { start: vaBig(CPU_ENTRY_AREA_BASE), name: 'CPU entry Area' },
  { start: vaBig(LDT_BASE_ADDR), name: 'LDT remap' },
  { start: vaBig(ESPFIX_BASE_ADDR), name: 'ESPfix Area', maxLines: 16 },
  { start: 0xffffffef00000000n, name: 'EFI Runtime Services' }, // EFI_VA_END: -68 GiB
  { start: vaBig(START_KERNEL_MAP), name: 'High Kernel Mapping' },
  { start: 0xffffffffc0000000n, name: 'Modules' }, // MODULES_VADDR: __START_KERNEL_map + KERNEL_IMAGE_SIZE (1 GiB)
  { start: 0xffffffffff000000n, name: 'End Modules' }, // MODULES_END
  { start: 0xffffffffff576000n, name: 'Fixmap Area' }, // FIXADDR_START (configuration-dependent)
];

export interface PtdumpOptions {
  /** `address_markers[]`, in the kernel's order; none: no marker lines. */
  readonly markers?: readonly Marker[];
}

/** `pte_flags` / `pmd_flags` / `pud_flags` / `pgd_flags`: the entry's value without its PFN. */
const flagsOf = (e: X86Pte): bigint => encode(e) & ~PTE_PFN_MASK;

/** `effective_prot`: USR and RW must be set at every level, NX at any level. */
const effectiveProt = (p1: bigint, p2: bigint): bigint => (p1 & p2 & (_PAGE_USER | _PAGE_RW)) | ((p1 | p2) & _PAGE_NX);

/** `printk_prot`: 30 characters of fixed-width fields (or 30 spaces when not present), then the level name. */
function printkProt(pr: bigint, level: number): string {
  const has = (bit: bigint): boolean => (pr & bit) !== 0n;
  const name = level < 0 ? 'cr3' : LEVEL_NAME[level];
  if (!has(_PAGE_PRESENT)) return ' '.repeat(30) + name;
  return (has(_PAGE_USER) ? 'USR ' : '    ') + (has(_PAGE_RW) ? 'RW ' : 'ro ') + (has(_PAGE_PWT) ? 'PWT ' : '    ')
    + (has(_PAGE_PCD) ? 'PCD ' : '    ')
    + (level <= 2 && has(_PAGE_PSE) ? 'PSE ' : '    ') // "Bit 7 has a different meaning on level 3 vs 4"
    + '    ' // PAT / PAT_LARGE: not modelled
    + (has(_PAGE_GLOBAL) ? 'GLB ' : '    ') + (has(_PAGE_NX) ? 'NX ' : 'x  ') + name;
}

const hex16 = (a: bigint): string => '0x' + BigInt.asUintN(64, a).toString(16).padStart(16, '0');

/** One range line as `note_page` prints it. */
function rangeLine(start: bigint, end: bigint, level: number, prot: bigint): string {
  let delta = BigInt.asUintN(64, end - start);
  let unit = 0;
  while ((delta & 1023n) === 0n && unit < 6) { delta >>= 10n; unit++; }
  return `${hex16(start)}-${hex16(end)}   ${delta.toString().padStart(9)}${'BKMGTPE'[unit]} ${printkProt(prot, level)}`;
}

/** `struct pg_state`: the range being collected. */
interface PgState {
  /** `start_address`. */
  start: bigint;
  /** `current_prot`: the flags of the range. */
  prot: bigint;
  /** `effective_prot`. */
  eff: bigint;
  /** Model level 0-3 (pgd, pud, pmd, pte); -1 is the final flush (`cr3`). */
  level: number;
  /** Index of the current marker (`st->marker`). */
  marker: number;
  /** Ranges finished since that marker (`st->lines`). */
  lines: number;
}

/** The dump of the page tables under the PGD at `root` (one line per merged range, both halves). */
export function renderPtdump(mem: PhysMem<X86Pte>, root: number, opts: PtdumpOptions = {}): string {
  const out: string[] = [];
  const markers = opts.markers ?? [];
  let st: PgState | undefined;

  const note = (addr: bigint, prot: bigint, eff: bigint, level: number): void => {
    if (!st) {
      st = { start: addr, prot, eff, level, marker: 0, lines: 0 };
      if (markers[0]) out.push(`---[ ${markers[0].name} ]---`);
      return;
    }
    const next = markers[st.marker + 1]?.start ?? 1n << 64n; // END_OF_SPACE_NR: -1
    if (prot === st.prot && eff === st.eff && level === st.level && addr < next) return;
    const maxLines = markers[st.marker]?.maxLines ?? 0;
    if (!maxLines || st.lines < maxLines) out.push(rangeLine(st.start, addr, st.level, st.prot));
    st.lines++;
    if (addr >= next) {
      if (maxLines && st.lines > maxLines) {
        const n = st.lines - maxLines;
        out.push(`... ${n} entr${n === 1 ? 'y' : 'ies'} skipped ... `);
      }
      st.marker++;
      st.lines = 0;
      out.push(`---[ ${markers[st.marker].name} ]---`);
    }
    Object.assign(st, { start: addr, prot, eff, level });
  };

  const walk = (table: number, level: number, base: bigint, effIn: bigint): void => {
    const entries = mem.frames.get(table)?.table;
    for (let i = 0; i < 512; i++) {
      const addr = level === 0 ? vaBig(pgdVa(i)) : base + BigInt(i * levelSize(level));
      const e = entries?.get(i);
      if (!e || isNone(e)) { note(addr, 0n, 0n, level); continue; }
      const prot = flagsOf(e);
      const eff = level === 0 ? prot : effectiveProt(effIn, prot);
      // `pgd_large` is 0 with 4-level paging (no 512 GiB pages): a present PGD entry is always walked.
      if (e.P && level < 3 && (level === 0 || !e.PS)) walk(e.addr, level + 1, addr, eff);
      else note(addr, prot, eff, level);
    }
  };

  walk(root, 0, 0n, 0n);
  note(0n, 0n, 0n, -1); // "Flush out the last page": normalize_addr(PTRS_PER_PGD * PGD_LEVEL_MULT) wraps to 0
  return out.map((l) => l + '\n').join('');
}

/** A parsed range line. `end` of a range that wraps to 0x0 is 2^64. */
export interface PtdumpRecord {
  /** First VA of the range (64-bit). */
  readonly start: bigint;
  /** First VA after the range; 2^64 when the printed end wraps to 0. */
  readonly end: bigint;
  /** The printed level name. */
  readonly level: 'pgd' | 'p4d' | 'pud' | 'pmd' | 'pte';
  /** `_PAGE_PRESENT`: false for a 30-space field. */
  readonly present: boolean;
  /** The printed words: `USR`, `RW`/`ro`, `PWT`, `PCD`, `PSE`, `PAT`, `GLB`, `NX`/`x`. Empty when not present. */
  readonly flags: ReadonlySet<string>;
  /** 1-based line number in the text parsed (for reports against a sample). */
  readonly line: number;
}

/** The fields of `printk_prot`, with their widths and the words they may hold. */
const FIELDS: readonly (readonly [number, readonly string[]])[] = [
  [4, ['USR']], [3, ['RW', 'ro']], [4, ['PWT']], [4, ['PCD']], [4, ['PSE']], [4, ['PAT']], [4, ['GLB']], [3, ['NX', 'x']],
];
/** An optional dmesg prefix (`[    0.006000] `, `[ T1] `), the range, the size, 30 characters of fields, the level. */
const LINE = /^((?:\[[^\]]*\] ?)*)0x([0-9a-f]{16})-0x([0-9a-f]{16})   +(\d+)([BKMGTPE]) (.{30})(pgd|p4d|pud|pmd|pte)$/;
const CANDIDATE = /^(?:\[[^\]]*\] ?)*0x[0-9a-f]+-/;

function parseFields(text: string, line: string): { present: boolean; flags: Set<string> } {
  if (text === ' '.repeat(30)) return { present: false, flags: new Set() };
  const flags = new Set<string>();
  let at = 0;
  for (const [width, words] of FIELDS) {
    const w = text.slice(at, at + width).trim();
    at += width;
    if (w === '') continue;
    if (!words.includes(w)) throw new SyntaxError(`bad flag field '${w}': ${line}`);
    flags.add(w);
  }
  if (!flags.has('RW') && !flags.has('ro')) throw new SyntaxError(`no RW/ro field: ${line}`);
  if (!flags.has('NX') && !flags.has('x')) throw new SyntaxError(`no NX/x field: ${line}`);
  return { present: true, flags };
}

/**
 * Parse dump_pagetables.c output (debugfs or dmesg, with timestamps) into
 * range records. Skips `#` lines, markers, `... skipped ...` and other
 * text; throws on a malformed range line or one whose size disagrees with
 * its addresses.
 */
export function parsePtdump(text: string): PtdumpRecord[] {
  const out: PtdumpRecord[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#') || !CANDIDATE.test(line)) return;
    const g = LINE.exec(line);
    if (!g) throw new SyntaxError(`not a dump_pagetables range line: ${line}`);
    const start = BigInt('0x' + g[2]);
    const end = BigInt('0x' + g[3]) || 1n << 64n;
    const bytes = BigInt(g[4]) << (10n * BigInt('BKMGTPE'.indexOf(g[5])));
    if (bytes !== end - start) throw new RangeError(`size ${g[4]}${g[5]} does not match ${line}`);
    out.push({ start, end, level: g[7] as PtdumpRecord['level'], ...parseFields(g[6], line), line: i + 1 });
  });
  return out;
}
