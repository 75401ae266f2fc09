// arm64 KPTI as merged in Linux 4.16 ("arm64: Unmap the kernel whilst
// running in userspace (KAISER)", Will Deacon, seeds/arm64-kpti-will-deacon-2017.txt):
// nG kernel mappings, ASID pairs with the ASID in TTBR1 (TCR_EL1.A1), the
// entry trampoline at TRAMP_VALIAS in `tramp_pg_dir`, and TLBI of both ASIDs.
// Code: arch/arm64/kernel/entry.S (docs/sources/arm64-kpti.md §1), mm/proc.S,
// mm/mmu.c `map_entry_trampoline`.

import { PAGE_SIZE } from '../../arch/arm64/descriptor.ts';
import { access, eret, isb, mrs, msr, type Hook } from '../../arch/arm64/ops.ts';
import { SCTLR_M, TCR_A1, ttbr } from '../../arch/arm64/sysreg.ts';
import { vaBig } from '../../arch/va.ts';
import { ARCH_INVARIANTS } from '../../claims.ts';
import { SWAPPER_DIR_SIZE } from '../../kernel/arm64/image.ts';
import { FIX_ENTRY_TRAMP_DATA, FIX_ENTRY_TRAMP_TEXT, TRAMP_VALIAS, fixToVirt } from '../../kernel/arm64/layout.ts';
import { allocEntry, setPte } from '../../kernel/arm64/pgtable.ts';
import { PAGE_KERNEL_EXEC, PAGE_KERNEL_RO, PAGE_KERNEL_ROX } from '../../kernel/arm64/prot.ts';
import type { Mm } from '../../kernel/task.ts';
import { tlbFlushHooks, USER_ASID_FLAG } from './lib/tlbflush.ts';
import { switchMm, type SwitchContextOps } from './lib/mmu_context.ts';
import { uaccessDisable, uaccessEnable, uaccessTtbr0Disable, uaccessTtbr0Enable } from './lib/uaccess.ts';
import type { Arm64Ctx, Arm64Hooks, Arm64Mitigation, Vector } from './types.ts';

/** `TCR_ASID16` (bit 36): 16-bit ASIDs; the model scales the width down (sysreg.ts). */
const TCR_ASID16 = 1n << 36n;
/** `RESERVED_TTBR0_SIZE`: a page with ARM64_SW_TTBR0_PAN, else 0. */
export const RESERVED_TTBR0_SIZE = (c: Arm64Ctx): number => (c.opts.swPan ? PAGE_SIZE : 0);
/** Offset of a vector slot: `tramp_vectors` and `vectors` both put lower-EL AArch64 entries at 0x400. */
export const ventryOffset = (v: Vector): number => 0x400 + (v === 'irq' ? 0x80 : 0);
/** `tramp_exit_native` follows the 2 KiB of `tramp_vectors` in `.entry.tramp.text`. */
const TRAMP_EXIT_NATIVE = 0x800;

/** `tramp_map_kernel tmp`: TTBR1 from `tramp_pg_dir` to `swapper_pg_dir`, kernel ASID. No isb. */
export function* trampMapKernel(c: Arm64Ctx): Hook {
  let tmp = yield* mrs('TTBR1_EL1');
  tmp -= BigInt(SWAPPER_DIR_SIZE + RESERVED_TTBR0_SIZE(c));
  tmp &= ~USER_ASID_FLAG;
  yield msr('TTBR1_EL1', tmp);
}

/** `tramp_unmap_kernel tmp`: back to `tramp_pg_dir` with the user ASID; `eret` synchronises. */
export function* trampUnmapKernel(c: Arm64Ctx): Hook {
  let tmp = yield* mrs('TTBR1_EL1');
  tmp += BigInt(SWAPPER_DIR_SIZE + RESERVED_TTBR0_SIZE(c));
  tmp |= USER_ASID_FLAG;
  yield msr('TTBR1_EL1', tmp);
}

/** `tramp_ventry` (CONFIG_RANDOMIZE_BASE), then `kernel_ventry 0` and `kernel_entry 0`. */
export function* trampVentry(c: Arm64Ctx, v: Vector): Hook {
  yield* trampMapKernel(c);
  // adr x30, tramp_vectors + PAGE_SIZE; isb; ldr x30, [x30]: the address of `vectors`.
  yield isb();
  yield* access('ldr', TRAMP_VALIAS + PAGE_SIZE, '__entry_tramp_data_start');
  yield msr('VBAR_EL1', vaBig(c.sym.vectors.va));
  yield isb();
  yield* access('fetch', c.sym.vectors.va + ventryOffset(v), 'vectors'); // ret
  yield* kernelEntry0(c);
}

/** `kernel_entry 0`, SW TTBR0 PAN part: user access disabled on entry. */
export function* kernelEntry0(c: Arm64Ctx): Hook { if (c.opts.swPan) yield* uaccessTtbr0Disable(); }

/** `kernel_exit 0`, SW TTBR0 PAN part: user access re-enabled for the return. */
export function* kernelExit0(c: Arm64Ctx): Hook { if (c.opts.swPan) yield* uaccessTtbr0Enable(c); }

/** `tramp_exit` (reached by `tramp_alias x30, tramp_exit_native; br x30`), with its `tramp_unmap_kernel`. */
export function* trampExitNative(c: Arm64Ctx, unmap: (c: Arm64Ctx) => Hook = trampUnmapKernel): Hook {
  yield* access('fetch', TRAMP_VALIAS + TRAMP_EXIT_NATIVE, 'tramp_exit_native');
  yield msr('VBAR_EL1', vaBig(TRAMP_VALIAS)); // adr x30, tramp_vectors; msr vbar_el1, x30
  yield* unmap(c);
  yield eret();
}

/** `kernel_exit 0` then `tramp_exit`. */
export function* trampExit(c: Arm64Ctx): Hook {
  yield* kernelExit0(c);
  yield* trampExitNative(c);
}

/** `kernel_entry 1` SW PAN part: returns whether user access was enabled (the emulated PSR_PAN_BIT). */
export function* kernelEntry1(c: Arm64Ctx): Hook<boolean> {
  if (!c.opts.swPan) return false;
  const ttbr0 = yield* mrs('TTBR0_EL1');
  const enabled = (ttbr0 & (0xffffn << 48n)) !== 0n; // tst x21, #TTBR_ASID_MASK
  if (enabled) yield* uaccessTtbr0Disable();
  return enabled;
}

/** `kernel_exit 1`: re-enable user access if it was enabled, then `eret`. */
export function* kernelExit1(c: Arm64Ctx, wasEnabled: boolean): Hook {
  if (wasEnabled) yield* uaccessTtbr0Enable(c);
  yield eret();
}

/** `cpu_do_switch_mm` (proc.S, KPTI): the ASID into TTBR1 first, isb, then TTBR0. */
export function* cpuDoSwitchMm(c: Arm64Ctx, mm: Mm): Hook {
  let x2 = yield* mrs('TTBR1_EL1');
  x2 = (x2 & ~(0xffffn << 48n)) | (BigInt(mm.contextId & 0xffff) << 48n); // bfi x2, x1, #48, #16
  yield msr('TTBR1_EL1', x2); // in TTBR1 (since TCR.A1 is set)
  yield isb();
  yield msr('TTBR0_EL1', ttbr(mm.pgd, 0)); // now update TTBR0
  yield isb();
}

/** `cpu_switch_mm`: reserved TTBR0 first, then `cpu_do_switch_mm`. */
export const kptiSwitchContext: SwitchContextOps = {
  *cpuSwitchMm(c, mm) {
    yield msr('TTBR0_EL1', ttbr(c.sym.empty_zero_page.pa, 0)); // cpu_set_reserved_ttbr0
    yield isb();
    yield* cpuDoSwitchMm(c, mm);
  },
  flushPending: true,
};

/**
 * `map_entry_trampoline` (mmu.c, 4.16; a core_initcall under CONFIG_UNMAP_KERNEL_AT_EL0 that runs
 * whether or not KPTI is enabled): the text, global, in `tramp_pg_dir` and the fixmap; the data page
 * in the fixmap only.
 */
export function* mapEntryTrampoline(c: Arm64Ctx, rodataEnabled = true): Hook {
  const { tramp_pg_dir, swapper_pg_dir, tramp_text, tramp_data } = c.sym;
  // pgprot_t prot = rodata_enabled ? PAGE_KERNEL_ROX : PAGE_KERNEL_EXEC;
  // The trampoline is always mapped and can therefore be global.
  const prot = { ...(rodataEnabled ? PAGE_KERNEL_ROX : PAGE_KERNEL_EXEC)(tramp_text.pa, c.nG), nG: false };
  yield* setPte(yield* allocEntry(c.mem, tramp_pg_dir!.pa, TRAMP_VALIAS, { owner: 'tramp_pg_dir' }), prot);
  yield* setPte(yield* allocEntry(c.mem, swapper_pg_dir.pa, fixToVirt(FIX_ENTRY_TRAMP_TEXT), { owner: 'bm_pte' }), prot);
  yield* setPte(yield* allocEntry(c.mem, swapper_pg_dir.pa, fixToVirt(FIX_ENTRY_TRAMP_DATA), { owner: 'bm_pte' }), PAGE_KERNEL_RO(tramp_data.pa, c.nG));
}

export const kptiHooks: Arm64Hooks = {
  *cpuSetup(c) {
    // __cpu_setup: TCR_EL1 with TCR_A1 | TCR_ASID16; then TTBR1 = swapper_pg_dir (reserved ASID 0).
    yield msr('TCR_EL1', TCR_A1 | TCR_ASID16);
    yield msr('TTBR0_EL1', ttbr(c.sym.empty_zero_page.pa, 0));
    yield msr('TTBR1_EL1', ttbr(c.sym.swapper_pg_dir.pa, 0));
    yield msr('VBAR_EL1', vaBig(c.sym.vectors.va));
    yield msr('SCTLR_EL1', SCTLR_M);
    yield isb();
  },
  layout: (c) => mapEntryTrampoline(c),
  el0Entry: trampVentry,
  el0Exit: trampExit,
  el1Entry: kernelEntry1,
  el1Exit: (c, saved) => kernelExit1(c, saved as boolean),
  switchMm: (c, prev, next, tsk) => switchMm(c, prev, next, tsk, kptiSwitchContext),
  ...tlbFlushHooks(true),
  uaccessEnable,
  uaccessDisable,
};

export const mitigation: Arm64Mitigation = {
  id: 'arm64/kpti',
  arch: 'arm64',
  title: 'arm64 KPTI (Linux 4.16): trampoline, nG kernel, ASID pairs in TTBR1, TLBI of both ASIDs',
  source: 'Will Deacon, "arm64: Unmap the kernel whilst running in userspace (KAISER)", 2017; merged in v4.16',
  claims: ARCH_INVARIANTS.arm64,
  nG: true,
  unmapKernelAtEl0: true,
  userShared: (sym) => [sym.tramp_text.pa],
  hooks: kptiHooks,
};
export default mitigation;
