// Ard Biesheuvel's 2022 nG rewrite with the MMU on (commit 47546a19, v6.0;
// docs/sources/arm64-ng-rewrite.md §3.2-3.4, the v6.0-v6.8 shape). CPU 0
// builds a temporary hierarchy whose PTE page maps itself at KPTI_NG_TEMP_VA
// and serves as an ad-hoc fixmap; it points TTBR1 there, maps each
// swapper_pg_dir table into the slot for its level in turn (with the slot's
// own break-before-make: store zero, DSB, TLBI VAAE1, DSB, ISB, store),
// and sets nG on each entry through the slot. There is no broadcast TLBI:
// every CPU flushed locally when it left swapper. The knobs exist for the
// broken variants. Simplifications as in mmu-off.ts: loads of invalid entries
// are not ops, and bit 11 of table descriptors is not represented.

import { dsb, isb, ldrd, mrs, msr, note, str, strd, tlbi, type Hook } from '../../../arch/arm64/ops.ts';
import { INVALID, tableDesc, type Descriptor, type Page } from '../../../arch/arm64/descriptor.ts';
import { ttbr } from '../../../arch/arm64/sysreg.ts';
import { tableIndex } from '../../../arch/arm64/walk.ts';
import { va, type VA } from '../../../arch/va.ts';
import { MT_NORMAL, PAGE_KERNEL } from '../../../kernel/arm64/prot.ts';
import type { Arm64Ctx } from '../types.ts';
import { cpuInstallIdmap, cpuUninstallIdmap, idmapCpuSetReservedTtbr1, idmapKptiSecondary, LINUX_SECONDARY, releaseSecondaries, waitForSecondaries, type SecondaryKnobs } from './idmap.ts';

export interface MmuOnKnobs {
  /** The slot's break-before-make (store zero, DSB, TLBI VAAE1, DSB, ISB) before each remap. */
  readonly slotBbm: boolean;
  /** While rewriting, also split the linear map's 2 MiB block into pages, in place. */
  readonly splitBlock: boolean;
  /** The `dsb ishst` after the rewrite: "Ensure all the updated entries are visible to secondary CPUs". */
  readonly publishDsb: boolean;
  /** How the secondaries park and resume. */
  readonly secondary: SecondaryKnobs;
}

export const LINUX: MmuOnKnobs = { slotBbm: true, splitBlock: false, publishDsb: true, secondary: LINUX_SECONDARY };

/** `KPTI_NG_TEMP_VA`: `-(1UL << PMD_SHIFT)`, the top 2 MiB of the address space. */
export const KPTI_NG_TEMP_VA: VA = va('0xffffffffffe00000');
/** `KPTI_NG_PTE_FLAGS`: `PTE_ATTRINDX(MT_NORMAL) | PTE_TYPE_PAGE | PTE_AF | PTE_SHARED | PTE_UXN | PTE_WRITE` (global, EL1 RW and, with no PTE_PXN, EL1-executable: wx.ts says why that is not judged). */
const kptiNgPte = (OA: number): Page =>
  ({ kind: 'page', OA, AttrIndx: MT_NORMAL, NS: false, AP: 0, SH: 3, AF: true, nG: false, Contiguous: false, PXN: false, UXN: true, POIndex: 0 });

/** CPU 0 only: 4 contiguous pages, PGD at the top, handed out downwards (`kpti_ng_pgd_alloc`); the PTE page maps itself. */
function* createKptiNgTempPgd(c: Arm64Ctx): Hook<number> {
  const alloc = c.mem.allocContiguous(4, 'page-table', 'kpti_ng_temp', true); // __get_free_pages(order_base_2(4 levels))
  const pgd = alloc + 3 * 4096, pud = alloc + 2 * 4096, pmd = alloc + 4096, pte = alloc;
  // create_kpti_ng_temp_pgd(pgd, __pa(alloc), KPTI_NG_TEMP_VA, PAGE_SIZE, PAGE_KERNEL, kpti_ng_pgd_alloc, 0)
  const v = KPTI_NG_TEMP_VA;
  yield str(pgd, tableIndex(v, 0), 0, tableDesc(pud));
  yield str(pud, tableIndex(v, 1), 1, tableDesc(pmd));
  yield str(pmd, tableIndex(v, 2), 2, tableDesc(pte));
  yield str(pte, tableIndex(v, 3), 3, PAGE_KERNEL(alloc, false));
  yield dsb('ishst');
  return pgd;
}

/** `kpti_map_pgtbl type, level`: map the table at PA `table` into fixmap slot `level + 1`; returns its VA. */
function* kptiMapPgtbl(k: MmuOnKnobs, table: number, level: number): Hook<VA> {
  const slot = level + 1, slotPte = KPTI_NG_TEMP_VA + 8 * slot, slotVa = KPTI_NG_TEMP_VA + 4096 * slot;
  if (k.slotBbm) {
    yield strd(slotPte, 3, INVALID, 'temp_pte slot'); // break before make
    yield dsb('nshst');
    yield tlbi('VAAE1', false, { va: slotVa });
    yield dsb('nsh');
    yield isb();
  }
  yield strd(slotPte, 3, kptiNgPte(table), 'temp_pte slot');
  yield dsb('nshst');
  return slotVa;
}

/** `kpti_mk_tbl_ng type, num_entries`: nG on every valid global entry of the table at `table`, through its slot. */
function* kptiMkTblNg(c: Arm64Ctx, k: MmuOnKnobs, table: number, level: number): Hook {
  const cur = yield* kptiMapPgtbl(k, table, level);
  for (const [index, seen] of [...(c.mem.frames.get(table)?.table ?? [])].sort((a, b) => a[0] - b[0])) {
    if (seen.kind === 'invalid') continue;
    const d = yield* ldrd(cur + 8 * index, level, 'cur_p'); // ldr \type, [cur_\type\()p]
    if (!d || d.kind === 'invalid') continue; // tbz #0
    if (d.kind === 'table') {
      // Bit 11 of a table descriptor is ignored; descend (tbnz #1, .Lderef) through the next level's slot.
      yield* kptiMkTblNg(c, k, d.NLTA, level + 1);
      continue;
    }
    if (d.nG) continue; // tbnz #11: skip non-global entries
    if (k.splitBlock && d.kind === 'block' && level === 2) { yield* splitInPlace(c, cur + 8 * index, d); continue; }
    yield strd(cur + 8 * index, level, { ...d, nG: true }, 'cur_p'); // orr #PTE_NG; str
  }
}

/** Broken knob: replace a live 2 MiB block by a table of nG pages in place, without the break. */
function* splitInPlace(c: Arm64Ctx, at: VA, d: Extract<Descriptor, { kind: 'block' }>): Hook {
  const t = c.mem.alloc('page-table', 'split L3', true);
  for (let i = 0; i < 512; i++) yield str(t, i, 3, { ...d, kind: 'page', OA: d.OA + i * 4096, nG: true });
  yield dsb('ishst');
  yield strd(at, 2, tableDesc(t), 'cur_pmdp');
}

/** `idmap_kpti_install_ng_mappings(cpu, num_cpus, temp_pgd_phys, temp_pte_va)`. */
export function* idmapKptiInstallNgMappings(c: Arm64Ctx, tempPgd: number, k: MmuOnKnobs): Hook {
  const swapperTtb = yield* mrs('TTBR1_EL1');
  if (c.cpu !== 0) return yield* idmapKptiSecondary(c, swapperTtb, k.secondary);
  yield* waitForSecondaries(c);
  // Switch to the temporary page tables on this CPU only
  yield* idmapCpuSetReservedTtbr1(c);
  yield msr('TTBR1_EL1', ttbr(tempPgd, 0));
  yield isb();
  yield note('Everybody is enjoying the idmap, so we can rewrite swapper.');
  yield* kptiMkTblNg(c, k, c.sym.swapper_pg_dir.pa, 0);
  if (k.publishDsb) yield dsb('ishst'); // Ensure all the updated entries are visible to secondary CPUs
  // We're done: fire up swapper_pg_dir again
  yield* idmapCpuSetReservedTtbr1(c);
  yield msr('TTBR1_EL1', swapperTtb);
  yield isb();
  yield* releaseSecondaries(c);
}

/** `kpti_install_ng_mappings` after 47546a19 (cpufeature.c, v6.1): every CPU, in stop_machine context. */
export function* kptiInstallNgMappings(c: Arm64Ctx, k: MmuOnKnobs = LINUX): Hook {
  if (c.boot.ngMappings) return; // arm64_use_ng_mappings
  const tempPgd = c.cpu === 0 ? yield* createKptiNgTempPgd(c) : 0;
  yield* cpuInstallIdmap(c);
  yield* idmapKptiInstallNgMappings(c, tempPgd, k);
  yield* cpuUninstallIdmap(c);
  if (c.cpu === 0) {
    for (let i = 0; i < 4; i++) c.mem.free(tempPgd - 3 * 4096 + i * 4096); // free_pages(alloc, order)
    c.boot.ngMappings = true;
  }
}
