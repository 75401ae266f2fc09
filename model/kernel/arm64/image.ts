// The kernel image and `swapper_pg_dir`, as Linux 4.16 lays them out
// (arch/arm64/kernel/vmlinux.lds.S; `map_kernel` and `map_mem` in
// arch/arm64/mm/mmu.c). The image is a handful of pages, each named after
// the symbol the model uses, and the linear map covers all of RAM.

import { tableDesc, type Descriptor } from '../../arch/arm64/descriptor.ts';
import { PhysMem, type Label } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import { KIMAGE_VADDR, PHYS_IMAGE, PHYS_OFFSET, RAM_SIZE, TEXT_OFFSET, physToVirt } from './layout.ts';
import { PAGE_KERNEL, PAGE_KERNEL_RO, PAGE_KERNEL_ROX, PROT_SECT_NORMAL } from './prot.ts';
import { allocEntry, runAtBoot, setPmd, setPte } from './pgtable.ts';

/** A kernel symbol: where it lives physically and in the image mapping. */
export interface Sym {
  /** Physical address (`__pa_symbol`). */
  readonly pa: number;
  /** Kernel image VA. */
  readonly va: VA;
}

/** What the kernel's boot code leaves for the mitigations and invariants. */
export interface Symbols {
  /** `vectors`: the full kernel exception vectors (text). */
  readonly vectors: Sym;
  /** `__entry_tramp_text_start`: the `.entry.tramp.text` page. */
  readonly tramp_text: Sym;
  /** `__entry_tramp_data_start`: rodata page holding `.quad vectors` (CONFIG_RANDOMIZE_BASE). */
  readonly tramp_data: Sym;
  /** `init_task` and the task structs: ordinary kernel data. */
  readonly init_task: Sym;
  /** `primary_crng`: the secret the kernel must not leak. */
  readonly primary_crng: Sym;
  /** `empty_zero_page`: TTBR0 while switching mm (`cpu_set_reserved_ttbr0`). */
  readonly empty_zero_page: Sym;
  /** `swapper_pg_dir`, followed by the rest of its `SWAPPER_DIR_SIZE` static tables. */
  readonly swapper_pg_dir: Sym;
  /** `reserved_ttbr0`, at `swapper_pg_dir + SWAPPER_DIR_SIZE` (ARM64_SW_TTBR0_PAN only). */
  readonly reserved_ttbr0?: Sym;
  /** `tramp_pg_dir`, at `swapper_pg_dir + SWAPPER_DIR_SIZE + RESERVED_TTBR0_SIZE` (UNMAP_KERNEL_AT_EL0 only). */
  readonly tramp_pg_dir?: Sym;
  /** `idmap_pg_dir`: the identity map of `.idmap.text`, when a mitigation needs it. */
  readonly idmap_pg_dir?: Sym;
  /** `.idmap.text`: `idmap_kpti_install_ng_mappings` (and, before 2022, `__idmap_kpti_flag` inside it). */
  readonly idmap_text?: Sym;
  /** `__idmap_kpti_flag` in `.data` (2022 on), mapped read-write in the ID map on its own. */
  readonly kpti_flag?: Sym;
}

/** `SWAPPER_DIR_SIZE`: `SWAPPER_PGTABLE_LEVELS` (3 with 4K pages, 48-bit VA) static pages. */
export const SWAPPER_DIR_SIZE = 3 * 4096;

export interface ImageConfig {
  /** `PTE_MAYBE_NG`: map the kernel non-global. */
  readonly nG: boolean;
  /** CONFIG_ARM64_SW_TTBR0_PAN: reserve `reserved_ttbr0`. */
  readonly swPan: boolean;
  /** CONFIG_UNMAP_KERNEL_AT_EL0: reserve `tramp_pg_dir`. */
  readonly trampoline: boolean;
  /** Build `idmap_pg_dir`: `rwx` (head.S `SWAPPER_MM_MMUFLAGS`, a 2 MiB RWX section), or `rox` (v6.0 `create_idmap`). */
  readonly idmap?: 'rwx' | 'rox';
}

type Section = 'text' | 'rodata' | 'data';
const protFor = { text: PAGE_KERNEL_ROX, rodata: PAGE_KERNEL_RO, data: PAGE_KERNEL } as const;

/** Allocate the image pages, build `swapper_pg_dir` (image + linear map), and return the symbols. */
export function bootImage(cfg: ImageConfig): { mem: PhysMem<Descriptor>; sym: Symbols } {
  const mem = new PhysMem<Descriptor>(PHYS_OFFSET, RAM_SIZE, (d) => d.kind === 'table');
  let pa = PHYS_IMAGE;
  const pages: { sym: Sym; section: Section }[] = [];
  const place = (name: string, label: Label, section: Section, table = false): Sym => {
    const sym = { pa: mem.claim(pa, label, name, table), va: KIMAGE_VADDR + TEXT_OFFSET + (pa - PHYS_IMAGE) };
    pages.push({ sym, section });
    pa += 4096;
    return sym;
  };
  const vectors = place('vectors', 'kernel-text', 'text');
  const idmap_text = cfg.idmap ? place('.idmap.text', 'kernel-text', 'text') : undefined;
  const tramp_text = place('__entry_tramp_text_start', 'trampoline', 'text');
  const tramp_data = place('__entry_tramp_data_start', 'kernel-data', 'rodata');
  const init_task = place('init_task', 'kernel-data', 'data');
  const primary_crng = place('primary_crng', 'kernel-secret', 'data');
  const empty_zero_page = place('empty_zero_page', 'kernel-data', 'data');
  const kpti_flag = cfg.idmap === 'rox' ? place('__idmap_kpti_flag', 'kernel-data', 'data') : undefined;
  const swapper_pg_dir = place('swapper_pg_dir', 'page-table', 'data', true);
  place('swapper_pg_dir L1', 'page-table', 'data', true);
  place('swapper_pg_dir L2', 'page-table', 'data', true);
  const reserved_ttbr0 = cfg.swPan ? place('reserved_ttbr0', 'page-table', 'data', true) : undefined;
  const tramp_pg_dir = cfg.trampoline ? place('tramp_pg_dir', 'page-table', 'data', true) : undefined;
  const idmap_pg_dir = cfg.idmap ? place('idmap_pg_dir', 'page-table', 'data', true) : undefined;
  const sym: Symbols = { vectors, tramp_text, tramp_data, init_task, primary_crng, empty_zero_page, swapper_pg_dir, reserved_ttbr0, tramp_pg_dir, idmap_pg_dir, idmap_text, kpti_flag };

  const root = swapper_pg_dir.pa;
  // The static swapper levels (vmlinux.lds.S reserves them contiguously after swapper_pg_dir).
  runAtBoot(mem, setPmd({ table: root, index: 0, level: 0 }, tableDesc(root + 4096)));
  runAtBoot(mem, setPmd({ table: root + 4096, index: 0, level: 1 }, tableDesc(root + 8192)));
  // map_kernel: one segment per section, with its own permissions (page granular here).
  for (const { sym: s, section } of pages) {
    const p = runAtBoot(mem, allocEntry(mem, root, s.va, { owner: 'swapper_pg_dir' }));
    runAtBoot(mem, setPte(p, protFor[section](s.pa, cfg.nG)));
  }
  // map_mem: the linear map of all RAM with 2 MiB sections (PROT_SECT_NORMAL), except around the
  // image, which is mapped with pages so that the alias of [_text, __init_begin) can be made
  // read-only (`__map_memblock(..., PAGE_KERNEL, NO_CONT_MAPPINGS)`, then `mark_linear_text_alias_ro`).
  const readOnly = new Set(pages.filter((p) => p.section !== 'data').map((p) => p.sym.pa));
  for (let off = 0; off < RAM_SIZE; off += 2 << 20) {
    const base = PHYS_OFFSET + off;
    if (PHYS_IMAGE >= base && PHYS_IMAGE < base + (2 << 20)) {
      for (let pa = base; pa < base + (2 << 20); pa += 4096) {
        const p = runAtBoot(mem, allocEntry(mem, root, physToVirt(pa), { owner: 'swapper_pg_dir' }));
        runAtBoot(mem, setPte(p, (readOnly.has(pa) ? PAGE_KERNEL_RO : PAGE_KERNEL)(pa, cfg.nG)));
      }
      continue;
    }
    const p = runAtBoot(mem, allocEntry(mem, root, physToVirt(base), { owner: 'swapper_pg_dir', level: 2 }));
    runAtBoot(mem, setPmd(p, PROT_SECT_NORMAL(base, cfg.nG)));
  }
  if (cfg.idmap && idmap_text && idmap_pg_dir) buildIdmap(mem, idmap_pg_dir.pa, idmap_text.pa, cfg.idmap === 'rwx' ? undefined : kpti_flag?.pa);
  return { mem, sym };
}

/**
 * `idmap_pg_dir`, identity-mapped (VA = PA) and global (nG is not known yet
 * when it is built). Before 2022 head.S mapped `.idmap.text` with a 2 MiB
 * section of `SWAPPER_MM_MMUFLAGS` (no PXN, no RDONLY: writable and
 * executable, which the flag written inside it needed); from v6.0
 * `create_idmap` maps it PAGE_KERNEL_ROX and the flag PAGE_KERNEL on its own.
 * Simplification: the model maps the `.idmap.text` page alone, with the
 * section's attributes. In a real image IDMAP_TEXT sits after TEXT_TEXT,
 * megabytes from swapper_pg_dir at the image's end and from the memblock
 * tables, so the section maps none of them (the MMU-off rewrite must turn
 * the MMU off to reach them); in the model's 4 MiB machine one section
 * would cover the whole image and every table.
 */
function buildIdmap(mem: PhysMem<Descriptor>, root: number, text: number, flag: number | undefined): void {
  if (flag === undefined) {
    const p = runAtBoot(mem, allocEntry(mem, root, text, { owner: 'idmap_pg_dir' }));
    runAtBoot(mem, setPte(p, { ...PROT_SECT_NORMAL(text, false), kind: 'page', PXN: false, UXN: false }));
    return;
  }
  runAtBoot(mem, setPte(runAtBoot(mem, allocEntry(mem, root, text, { owner: 'idmap_pg_dir' })), PAGE_KERNEL_ROX(text, false)));
  runAtBoot(mem, setPte(runAtBoot(mem, allocEntry(mem, root, flag, { owner: 'idmap_pg_dir' })), PAGE_KERNEL(flag, false)));
}
