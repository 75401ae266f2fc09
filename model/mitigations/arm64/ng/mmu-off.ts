// The pre-2022 nG rewrite: arch/arm64/mm/proc.S `idmap_kpti_install_ng_mappings`
// (v4.16 .. v5.18; docs/sources/arm64-ng-rewrite.md §1.1) and its C caller
// `kpti_install_ng_mappings` in arch/arm64/kernel/cpufeature.c (§2.1). The
// boot CPU waits for the others to park, turns its MMU off, walks
// swapper_pg_dir physically setting nG on every valid global entry, then
// publishes (`dsb sy; tlbi vmalle1is; dsb ish; isb`), turns the MMU back on
// and releases the others. The knobs exist for the broken variants. The
// walk loads and stores each entry at its physical address (`mov cur_pgdp,
// swapper_pa`), which is only the entry's address while SCTLR_EL1.M = 0
// (Arm ARM D8.2.10: with stage 1 disabled, VA = PA); with the MMU on the
// same address goes through TTBR0, the ID map, which maps none of the tables.
// Simplifications: the `dc cvac`/`dc civac` around each MMU-off access are
// not modelled (no data caches, stores.ts); loads of invalid entries are not
// ops; bit 11 of a table descriptor is IGNORED by the hardware (D8.3.1) and
// not represented, so the store that sets it in a table entry is omitted.

import { access, dsb, isb, ldrd, mrs, msr, note, strd, tlbi, type Hook } from '../../../arch/arm64/ops.ts';
import { SCTLR_M } from '../../../arch/arm64/sysreg.ts';
import type { Arm64Ctx } from '../types.ts';
import { cpuInstallIdmap, cpuUninstallIdmap, idmapKptiSecondary, LINUX_SECONDARY, releaseSecondaries, waitForSecondaries } from './idmap.ts';

export interface MmuOffKnobs {
  /** `tlbi vmalle1is` (true) or the local `tlbi vmalle1`. */
  readonly broadcast: boolean;
  /** The `dsb ish` that completes it. */
  readonly dsbAfterTlbi: boolean;
  /** Release the secondaries right after the rewrite, before publishing it. */
  readonly releaseEarly: boolean;
  /** Secondaries flush their own TLB when they park (`__idmap_cpu_set_reserved_ttbr1`). */
  readonly flushWhileParked: boolean;
  /** The boot CPU clears SCTLR_EL1.M for the walk ("We need to walk swapper, so turn off the MMU") and sets it after. */
  readonly mmuOff: boolean;
}

export const LINUX: MmuOffKnobs = { broadcast: true, dsbAfterTlbi: true, releaseEarly: false, flushWhileParked: true, mmuOff: true };

const CUR = ['cur_pgdp', 'cur_pudp', 'cur_pmdp', 'cur_ptep'];

/** Set nG on every valid global entry below the table at PA `table` (level `level`), as the asm walks it: depth first. */
function* walkNg(c: Arm64Ctx, table: number, level: number): Hook {
  for (const [index, seen] of [...(c.mem.frames.get(table)?.table ?? [])].sort((a, b) => a[0] - b[0])) {
    if (seen.kind === 'invalid') continue;
    const at = table + 8 * index;
    const d = yield* ldrd(at, level, CUR[level]); // __idmap_kpti_get_pgtable_ent: dc cvac; ldr
    if (!d || d.kind === 'invalid') continue; // tbz #0: skip invalid entries (and give up on a faulting load)
    if (d.kind === 'table') { if (level < 3) yield* walkNg(c, d.NLTA, level + 1); continue; }
    if (d.nG) continue; // tbnz #11: skip non-global entries
    yield strd(at, level, { ...d, nG: true }, CUR[level]); // orr #PTE_NG; str; dmb sy; dc civac
  }
}

/** `idmap_kpti_install_ng_mappings(cpu, num_cpus, swapper_pa)`. */
export function* idmapKptiInstallNgMappings(c: Arm64Ctx, k: MmuOffKnobs): Hook {
  yield* access('fetch', c.sym.idmap_text!.pa, 'idmap_kpti_install_ng_mappings');
  const swapperTtb = yield* mrs('TTBR1_EL1');
  if (c.cpu !== 0) return yield* idmapKptiSecondary(c, swapperTtb, { ...LINUX_SECONDARY, flushWhileParked: k.flushWhileParked });
  yield* waitForSecondaries(c);
  // We need to walk swapper, so turn off the MMU.
  let sctlr = yield* mrs('SCTLR_EL1');
  if (k.mmuOff) yield msr('SCTLR_EL1', sctlr & ~SCTLR_M);
  yield isb();
  yield note('Everybody is enjoying the idmap, so we can rewrite swapper.');
  yield* walkNg(c, c.sym.swapper_pg_dir.pa, 0);
  if (k.releaseEarly) yield* releaseSecondaries(c);
  // Publish the updated tables and nuke all the TLBs
  yield dsb('sy');
  yield tlbi('VMALLE1', k.broadcast);
  if (k.dsbAfterTlbi) yield dsb('ish');
  yield isb();
  // We're done: fire up the MMU again
  sctlr = yield* mrs('SCTLR_EL1');
  if (k.mmuOff) yield msr('SCTLR_EL1', sctlr | SCTLR_M);
  yield isb();
  if (!k.releaseEarly) yield* releaseSecondaries(c); // Set the flag to zero to indicate that we're all done
}

/** `kpti_install_ng_mappings` (cpufeature.c, 4.16 .. 5.18): every CPU, in stop_machine context. */
export function* kptiInstallNgMappings(c: Arm64Ctx, k: MmuOffKnobs = LINUX): Hook {
  if (c.boot.ngMappings) return; // kpti_applied
  yield* cpuInstallIdmap(c);
  yield* idmapKptiInstallNgMappings(c, k); // remap_fn(cpu, num_online_cpus(), __pa_symbol(swapper_pg_dir))
  yield* cpuUninstallIdmap(c);
  if (c.cpu === 0) c.boot.ngMappings = true;
}
