// The layouts the arm64 mitigations build, checked against real
// /sys/kernel/debug/kernel_page_tables dumps (test-data/ptdump, each file's
// header names its source). Every claim is checked on a real sample and on
// the model's tables rendered by ptdump.ts.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vaBig } from '../../arch/va.ts';
import { reachable } from '../../arch/arm64/reach.ts';
import { mitigation as kpti } from '../../mitigations/arm64/kpti.ts';
import { mitigation as nokpti } from '../../mitigations/arm64/nokpti.ts';
import { mitigation as kptiGlobalKernel } from '../../mitigations/arm64/broken/kpti-global-kernel.ts';
import { PhysMem } from '../../arch/phys.ts';
import type { Descriptor } from '../../arch/arm64/descriptor.ts';
import { allocEntry, runAtBoot, setPmd } from './pgtable.ts';
import type { Arm64Kernel } from './kernel.ts';
import { bootKernel } from '../../../properties/runner/simulate.ts';
import { FIXADDR_TOP, FIX_ENTRY_TRAMP_TEXT, KIMAGE_VADDR, PAGE_OFFSET, PHYS_OFFSET, RAM_SIZE, TRAMP_VALIAS, fixToVirt, physToVirt } from './layout.ts';
import { PROT_SECT_NORMAL } from './prot.ts';
import { TTBR1_BASE, parsePtdump, renderPtdump, type PtdumpRecord } from './ptdump.ts';

const sample = (name: string): string => readFileSync(new URL(`../../../test-data/ptdump/${name}`, import.meta.url), 'utf8');
const V615 = sample('arm64-kpti-v6.15-kernel_page_tables-qemu-memory-rst.txt');
const V69 = sample('arm64-kpti-v6.9rc-kernel_page_tables-bland-2024.txt');
const BIT39 = sample('arm64-39bit-kpti-linear-map-notes.txt');
const DOCS = sample('arm64-docs-ptdump-rst-example.txt');
const LPA2 = sample('arm64-lpa2-no-kpti-qemu-cpumax-pwndbg-2025.txt');

/**
 * The 39-bit sample's last line, `0x0000000000800000-0x0000000000a00000 2M PMD RW x SHD AF BLK MEM/NORMAL`,
 * is idmap_pg_dir printed by the notes' author's own modified kernel: NOT upstream
 * kernel_page_tables output (which shows swapper only). Excluded by this address wherever it matters.
 */
const AUTHOR_IDMAP_LINE = 0x800000n;

const kptiK = bootKernel(kpti);
const nokptiK = bootKernel(nokpti);
const swapperDump = (k: Arm64Kernel): string => renderPtdump(k.machine.mem, k.sym.swapper_pg_dir.pa);

const set = (s: string): Set<string> => new Set(s.split(' '));
/** Mapped ranges: v6.9-era dumps print empty ranges as `F ...` (PTE_VALID clear, prot 0); ptdump's checks skip prot 0. */
const present = (rs: PtdumpRecord[]): PtdumpRecord[] => rs.filter((r) => !r.attrs.has('F'));
const nonGlobal = (r: PtdumpRecord): boolean => r.attrs.has('NG');
/** ptdump `note_prot_wx`: !PTE_RDONLY && !PTE_PXN. */
const writableExec = (r: PtdumpRecord): boolean => r.attrs.has('RW') && r.attrs.has('x');
const within = (rs: PtdumpRecord[], lo: bigint, hi: bigint): PtdumpRecord[] => rs.filter((r) => r.start >= lo && r.end <= hi);
/** The `---[ marker ]---` most recently printed before the range line starting at `start`. */
function regionOf(text: string, start: bigint): string | undefined {
  let marker: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^---\[ (.*) \]---$/.exec(line);
    if (m) marker = m[1];
    else if (line.startsWith(`0x${start.toString(16).padStart(16, '0')}-`)) return marker;
  }
  return undefined;
}

const TRAMP_ATTRS = set('ro x SHD AF UXN MEM/NORMAL');
const TRAMP_DATA_ATTRS = set('ro NX SHD AF NG UXN MEM/NORMAL');
const tramp = vaBig(TRAMP_VALIAS);

describe('ptdump.ts renders the model in the format of arch/arm64/mm/ptdump.c (4.x)', () => {
  it('prints the KPTI swapper_pg_dir: image, fixmap trampoline, linear map', () => {
    expect(swapperDump(kptiK)).toBe([
      '0xffff000008080000-0xffff000008082000           8K PTE       ro x  SHD AF NG         UXN MEM/NORMAL',
      '0xffff000008082000-0xffff000008083000           4K PTE       ro NX SHD AF NG         UXN MEM/NORMAL',
      '0xffff000008083000-0xffff00000808a000          28K PTE       RW NX SHD AF NG         UXN MEM/NORMAL',
      '0xffff7dfffe7fb000-0xffff7dfffe7fc000           4K PTE       ro x  SHD AF            UXN MEM/NORMAL',
      '0xffff7dfffe7fc000-0xffff7dfffe7fd000           4K PTE       ro NX SHD AF NG         UXN MEM/NORMAL',
      '0xffff800000000000-0xffff800000080000         512K PTE       RW NX SHD AF NG         UXN MEM/NORMAL',
      '0xffff800000080000-0xffff800000083000          12K PTE       ro NX SHD AF NG         UXN MEM/NORMAL',
      '0xffff800000083000-0xffff800000200000        1524K PTE       RW NX SHD AF NG         UXN MEM/NORMAL',
      '0xffff800000200000-0xffff800000400000           2M PMD       RW NX SHD AF NG     BLK UXN MEM/NORMAL',
      '',
    ].join('\n'));
  });

  it('lays out the attribute columns byte for byte as the 4.x (39-bit) real dump does', () => {
    const tail = (line: string): string => line.slice(line.search(/ (PGD|PUD|PMD|PTE) /) + 1);
    const realLine = (start: string): string => BIT39.split('\n').find((l) => l.startsWith(start))!;
    const model = swapperDump(kptiK).split('\n');
    // PMD block of the linear map: RW NX ... BLK UXN.
    expect(tail(model[8])).toBe(tail(realLine('0xffffffc000c00000')));
    // The read-only linear alias of the kernel text, as in the real dump at PAGE_OFFSET + TEXT_OFFSET.
    expect(tail(model[6])).toBe(tail(realLine('0xffffffc000080000')));
    // PTE, read-only, non-executable.
    expect(tail(model[1])).toBe(tail(realLine('0xffffffc000080000')));
    expect(tail(model[1])).toBe('PTE       ro NX SHD AF NG         UXN MEM/NORMAL');
  });

  it('prints a whole real 4.x line byte for byte: the 39-bit idmap block (no UXN: 4.x prints nothing for it)', () => {
    const mem = new PhysMem<Descriptor>(PHYS_OFFSET, RAM_SIZE);
    const root = mem.alloc('page-table', 'idmap_pg_dir', true);
    const p = runAtBoot(mem, allocEntry(mem, root, 0x800000, { owner: 'idmap', level: 2 }));
    runAtBoot(mem, setPmd(p, { ...PROT_SECT_NORMAL(PHYS_OFFSET, false), PXN: false, UXN: false }));
    const line = BIT39.trimEnd().split('\n').at(-1);
    expect(renderPtdump(mem, root, { base: 0n })).toBe(`${line}\n`);
    expect(line).toBe('0x0000000000800000-0x0000000000a00000           2M PMD       RW x  SHD AF        BLK MEM/NORMAL');
  });

  it('prints markers where the walk crosses them, and empty ranges only when asked (v5.x+ style)', () => {
    const markers = [
      { start: TTBR1_BASE, name: 'Modules start' }, { start: vaBig(KIMAGE_VADDR), name: 'Modules end' },
      { start: vaBig(KIMAGE_VADDR), name: 'vmalloc() Area' }, { start: vaBig(FIXADDR_TOP), name: 'Fixmap end' },
      { start: vaBig(PAGE_OFFSET), name: 'Linear Mapping' },
    ];
    const lines = renderPtdump(kptiK.machine.mem, kptiK.sym.swapper_pg_dir.pa, { markers }).split('\n');
    expect(lines.map((l) => l.slice(0, 22))).toEqual([
      '---[ Modules start ]--', '---[ Modules end ]---', '---[ vmalloc() Area ]-', '0xffff000008080000-0xf',
      '0xffff000008082000-0xf', '0xffff000008083000-0xf', '0xffff7dfffe7fb000-0xf', '0xffff7dfffe7fc000-0xf',
      '---[ Fixmap end ]---', '---[ Linear Mapping ]-', '0xffff800000000000-0xf', '0xffff800000080000-0xf',
      '0xffff800000083000-0xf', '0xffff800000200000-0xf', '',
    ]);
    const holes = renderPtdump(kptiK.machine.mem, kptiK.sym.swapper_pg_dir.pa, { holes: true });
    expect(holes.split('\n')).toContain('0xffff7dfffe600000-0xffff7dfffe7fb000        2028K PTE');
    // The last range ends where the address wraps, as in the real v6.15 dump's last line.
    expect(holes.split('\n').at(-2)).toBe('0xffff808000000000-0x0000000000000000      130560G PGD');
    expect(V615).toContain('0xffffffffff800000-0x0000000000000000           8M PMD\n');
    expect(parsePtdump(holes)).toEqual(parsePtdump(swapperDump(kptiK)));
  });

  it('parsePtdump reads real dumps and rejects malformed range lines', () => {
    expect(parsePtdump(DOCS)[0]).toEqual({
      start: 0xfff0000001c00000n, end: 0xfff0000080000000n, level: 'PTE', attrs: set('RW NX SHD AF UXN MEM/NORMAL-TAGGED'),
    });
    expect(parsePtdump(V615).at(-1)!.end).toBe(0xffffffffff6fe000n);
    expect(parsePtdump(V69).at(-1)).toEqual({ start: 0xffffffffff800000n, end: 1n << 64n, level: 'PMD', attrs: set('F RW x BLK MEM/NORMAL') });
    expect(() => parsePtdump('0xffff000000000000-0xffff0000200000           2M PTE       RW')).toThrow(SyntaxError);
    expect(() => parsePtdump('0xffff000000000000-0xffff000000200000           4M PTE       RW')).toThrow(RangeError);
  });
});

describe('under KPTI every kernel mapping is NG except the trampoline text in the fixmap', () => {
  it('real: v6.15 and v6.9 dumps', () => {
    for (const [text, start, mapped] of [[V615, 0xffffffffff3f3000n, 70], [V69, 0xffffffffff5f6000n, 109]] as const) {
      const rs = present(parsePtdump(text));
      expect(rs).toHaveLength(mapped);
      const global = rs.filter((r) => !nonGlobal(r));
      // 12K: three trampoline text pages in v5.17+ (4.16 had one), global and executable.
      expect(global).toEqual([{ start, end: start + 0x3000n, level: 'PTE', attrs: TRAMP_ATTRS }]);
      expect(regionOf(text, start)).toBe('Fixmap start');
      // FIX_ENTRY_TRAMP_DATA, just above the text: read-only, NG.
      expect(rs[rs.indexOf(global[0]) + 1]).toEqual({ start: start + 0x3000n, end: start + 0x4000n, level: 'PTE', attrs: TRAMP_DATA_ATTRS });
    }
  });

  it('real: the 4.x 39-bit KPTI dump has NG on every (upstream) linear-map entry', () => {
    const rs = parsePtdump(BIT39).filter((r) => r.start !== AUTHOR_IDMAP_LINE);
    expect(rs).toHaveLength(12);
    expect(rs.filter((r) => !nonGlobal(r))).toEqual([]);
  });

  it('model: swapper_pg_dir under arm64/kpti', () => {
    const rs = parsePtdump(swapperDump(kptiK));
    expect(rs).toHaveLength(9);
    const global = rs.filter((r) => !nonGlobal(r));
    expect(global).toEqual([{ start: tramp, end: tramp + 0x1000n, level: 'PTE', attrs: TRAMP_ATTRS }]);
    expect(tramp).toBe(vaBig(fixToVirt(FIX_ENTRY_TRAMP_TEXT)));
    expect(tramp < vaBig(FIXADDR_TOP)).toBe(true);
    expect(rs[rs.indexOf(global[0]) + 1]).toEqual({ start: tramp + 0x1000n, end: tramp + 0x2000n, level: 'PTE', attrs: TRAMP_DATA_ATTRS });
  });

  it('model: the same check catches arm64/broken/kpti-global-kernel (PTE_MAYBE_NG = 0)', () => {
    expect(parsePtdump(swapperDump(bootKernel(kptiGlobalKernel))).filter(nonGlobal)).toEqual([]);
  });

  it('model: tramp_pg_dir maps exactly one page, the global trampoline text', () => {
    const dump = renderPtdump(kptiK.machine.mem, kptiK.sym.tramp_pg_dir!.pa);
    expect(dump).toBe('0xffff7dfffe7fb000-0xffff7dfffe7fc000           4K PTE       ro x  SHD AF            UXN MEM/NORMAL\n');
    const leaves = reachable(kptiK.machine, kptiK.sym.tramp_pg_dir!.pa, true);
    expect(leaves.map((l) => [l.size, l.pa])).toEqual([[4096, kptiK.sym.tramp_text.pa]]);
  });
});

describe('without KPTI no kernel mapping is NG', () => {
  it('real: the ptdump.rst example and the LPA2 (no KPTI) dump', () => {
    for (const [text, mapped] of [[DOCS, 4], [LPA2, 17]] as const) {
      const rs = present(parsePtdump(text));
      expect(rs).toHaveLength(mapped);
      expect(rs.filter(nonGlobal)).toEqual([]);
    }
  });

  it('model: swapper_pg_dir under arm64/nokpti', () => {
    const dump = swapperDump(nokptiK);
    expect(dump.split('\n')[0]).toBe('0xffff000008080000-0xffff000008082000           8K PTE       ro x  SHD AF            UXN MEM/NORMAL');
    const rs = parsePtdump(dump);
    // 4.16 maps the trampoline in the fixmap whether or not KPTI is on (map_entry_trampoline is unconditional).
    expect(rs).toHaveLength(9);
    expect(rs.filter(nonGlobal)).toEqual([]);
  });
});

describe('no kernel mapping is both writable and executable (ptdump check_wx)', () => {
  it('real: all five samples', () => {
    for (const [text, hasExec] of [[V615, true], [V69, true], [DOCS, false], [LPA2, false]] as const) {
      const rs = present(parsePtdump(text));
      expect(rs.some((r) => r.attrs.has('RW'))).toBe(true);
      expect(rs.some((r) => r.attrs.has('x'))).toBe(hasExec); // kernel text / BPF text: `ro x`
      expect(rs.filter(writableExec)).toEqual([]);
    }
    // v6.9 prints empty ranges as `F RW x` (prot 0): ptdump's check skips them, and so does `present`.
    expect(parsePtdump(V69).filter(writableExec).every((r) => r.attrs.has('F'))).toBe(true);
    // 39-bit: the only RW x line is the author-added idmap line (not upstream), excluded by address.
    const wx39 = parsePtdump(BIT39).filter(writableExec);
    expect(wx39.map((r) => r.start)).toEqual([AUTHOR_IDMAP_LINE]);
    expect(wx39.filter((r) => r.start !== AUTHOR_IDMAP_LINE)).toEqual([]);
  });

  it('model: swapper_pg_dir under arm64/kpti and arm64/nokpti, and tramp_pg_dir', () => {
    const dumps = [swapperDump(kptiK), swapperDump(nokptiK), renderPtdump(kptiK.machine.mem, kptiK.sym.tramp_pg_dir!.pa)];
    for (const dump of dumps) {
      const rs = parsePtdump(dump);
      expect(rs.some((r) => r.attrs.has('x'))).toBe(true); // the check is not vacuous
      expect(rs.filter(writableExec)).toEqual([]);
    }
  });
});

describe('the linear map is non-executable (NX and UXN)', () => {
  it('real: linear-map ranges of each sample', () => {
    const cases = [
      [V615, 0xffff000000000000n, 0xffff800000000000n, 6], // v6 48-bit: [PAGE_OFFSET, PAGE_END)
      [V69, 0xffff000000000000n, 0xffff800000000000n, 9],
      [BIT39, 0xffffffc000000000n, 1n << 64n, 12], // 4.x 39-bit: PAGE_OFFSET to the top
      [DOCS, 0xfff0000000000000n, 0xfff8000000000000n, 4], // 52-bit
      [LPA2, 0xfff0000000000000n, 0xfff8000000000000n, 9],
    ] as const;
    for (const [text, lo, hi, n] of cases) {
      const rs = within(present(parsePtdump(text)), lo, hi);
      expect(rs).toHaveLength(n);
      expect(rs.filter((r) => !(r.attrs.has('NX') && r.attrs.has('UXN')))).toEqual([]);
    }
  });

  it('model: the linear map under arm64/kpti and arm64/nokpti', () => {
    for (const [k, ng] of [[kptiK, ' NG'], [nokptiK, '']] as const) {
      const rs = within(parsePtdump(swapperDump(k)), vaBig(PAGE_OFFSET), 1n << 64n);
      expect(rs.map((r) => [r.start - vaBig(PAGE_OFFSET), r.end - vaBig(PAGE_OFFSET), r.level])).toEqual([
        [0n, 0x80000n, 'PTE'], [0x80000n, 0x83000n, 'PTE'], [0x83000n, 0x200000n, 'PTE'], [0x200000n, 0x400000n, 'PMD'],
      ]);
      for (const r of rs) expect([...r.attrs].filter((a) => a !== 'RW' && a !== 'ro' && a !== 'BLK').sort()).toEqual(`NX SHD AF${ng} UXN MEM/NORMAL`.trim().split(' ').sort());
    }
  });
});

// 4.x `map_mem` maps the linear alias of [_text, __init_begin) with pages and
// `mark_linear_text_alias_ro` makes it read-only; the 39-bit 4.x dump shows it
// (`ro` from PAGE_OFFSET + TEXT_OFFSET), and so does the model.
describe('the linear alias of the kernel text is read-only', () => {
  it('real: 4.x 39-bit dump, read-only from PAGE_OFFSET + TEXT_OFFSET (0x80000)', () => {
    const rs = parsePtdump(BIT39);
    expect(rs[0]).toMatchObject({ start: 0xffffffc000000000n, end: 0xffffffc000080000n });
    expect(rs[0].attrs.has('RW')).toBe(true);
    expect(rs[1]).toEqual({ start: 0xffffffc000080000n, end: 0xffffffc000200000n, level: 'PTE', attrs: set('ro NX SHD AF NG UXN MEM/NORMAL') });
  });

  it('model: the linear alias of `vectors` is read-only (mark_linear_text_alias_ro)', () => {
    const alias = vaBig(physToVirt(kptiK.sym.vectors.pa));
    const r = parsePtdump(swapperDump(kptiK)).find((x) => x.start <= alias && alias < x.end)!;
    expect(r.attrs.has('ro')).toBe(true);
  });
});
