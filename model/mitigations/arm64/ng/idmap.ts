// Helpers shared by both nG rewrites: running from the ID map
// (arch/arm64/include/asm/mmu_context.h `cpu_install_idmap`,
// `cpu_uninstall_idmap`, read in a 4.14/4.16-era copy, index id 43466583045;
// both do `cpu_set_reserved_ttbr0(); local_flush_tlb_all();`) and proc.S `__idmap_cpu_set_reserved_ttbr1`
// (docs/sources/arm64-ng-rewrite.md §1.1). The flag the CPUs meet on,
// `__idmap_kpti_flag`, is ghost state plus a real access to its address.

import { access, dsb, isb, msr, tlbi, type Hook } from '../../../arch/arm64/ops.ts';
import { ttbr } from '../../../arch/arm64/sysreg.ts';
import { cpuSetReservedTtbr0 } from '../lib/mmu_context.ts';
import { localFlushTlbAll } from '../lib/tlbflush.ts';
import type { Arm64Ctx } from '../types.ts';

/** `cpu_install_idmap`: reserved TTBR0, flush, then `cpu_switch_mm(idmap_pg_dir, &init_mm)` (ASID 0). */
export function* cpuInstallIdmap(c: Arm64Ctx): Hook {
  yield* cpuSetReservedTtbr0(c);
  yield* localFlushTlbAll();
  yield msr('TTBR1_EL1', ttbr(c.sym.swapper_pg_dir.pa, 0)); // cpu_do_switch_mm: ASID(init_mm) = 0 into TTBR1
  yield isb();
  yield msr('TTBR0_EL1', ttbr(c.sym.idmap_pg_dir!.pa, 0));
  yield isb();
}

/** `cpu_uninstall_idmap`: reserved TTBR0 and a local flush (the active mm at boot is init_mm, so no switch back). */
export function* cpuUninstallIdmap(c: Arm64Ctx): Hook {
  yield* cpuSetReservedTtbr0(c);
  yield* localFlushTlbAll();
}

/**
 * `__idmap_cpu_set_reserved_ttbr1`: TTBR1 to an empty table, then a local
 * flush. 4.16 used `empty_zero_page`, later kernels `reserved_pg_dir`; the
 * model uses `empty_zero_page` for both (both are empty tables).
 */
export function* idmapCpuSetReservedTtbr1(c: Arm64Ctx): Hook {
  yield msr('TTBR1_EL1', ttbr(c.sym.empty_zero_page.pa, 0));
  yield isb();
  yield tlbi('VMALLE1', false);
  yield dsb('nsh');
  yield isb();
}

/** Where `__idmap_kpti_flag` is, by its ID-map (identity) address. */
export const flagAddress = (c: Arm64Ctx): number => (c.sym.kpti_flag ?? c.sym.idmap_text!).pa;

/** How a secondary parks; the knobs exist for the broken and safe variants. */
export interface SecondaryKnobs {
  /** Flush its own TLB when it parks (`__idmap_cpu_set_reserved_ttbr1`), or only switch TTBR1. */
  readonly flushWhileParked: boolean;
  /** `msr ttbr1_el1, swapper_ttb; isb` once released ("All done, act like nothing happened"). */
  readonly restoreTtbr1: boolean;
}

export const LINUX_SECONDARY: SecondaryKnobs = { flushWhileParked: true, restoreTtbr1: true };

/** A secondary CPU's part (`__idmap_kpti_secondary`): park on an empty TTBR1, count in, wait, restore TTBR1. */
export function* idmapKptiSecondary(c: Arm64Ctx, swapperTtb: bigint, k: SecondaryKnobs = LINUX_SECONDARY): Hook {
  if (k.flushWhileParked) yield* idmapCpuSetReservedTtbr1(c);
  else { yield msr('TTBR1_EL1', ttbr(c.sym.empty_zero_page.pa, 0)); yield isb(); }
  // 1: ldxr w16, [flag_ptr]; add w16, w16, #1; stxr w17, w16, [flag_ptr]
  yield* access('str', flagAddress(c), '__idmap_kpti_flag');
  c.boot.idmapKptiFlag++; // the store has happened; the ghost value follows it
  yield { op: 'wait', what: '__idmap_kpti_flag == 0', until: () => c.boot.idmapKptiFlag === 0 };
  if (!k.restoreTtbr1) return;
  yield msr('TTBR1_EL1', swapperTtb); // All done, act like nothing happened
  yield isb();
}

/** The boot CPU waits for the others to count in: `ldaxr w17, [flag_ptr]; eor w17, w17, num_cpus; cbnz`. */
export function* waitForSecondaries(c: Arm64Ctx): Hook {
  yield { op: 'wait', what: '__idmap_kpti_flag == num_cpus', until: () => c.boot.idmapKptiFlag === c.opts.ncpus };
  yield* access('ldr', flagAddress(c), '__idmap_kpti_flag');
}

/** The boot CPU releases the others: `str wzr, [flag_ptr]`. */
export function* releaseSecondaries(c: Arm64Ctx): Hook {
  yield* access('str', flagAddress(c), '__idmap_kpti_flag');
  c.boot.idmapKptiFlag = 0;
}
