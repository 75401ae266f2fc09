// The CR3 switches of arch/x86/entry/calling.h (4.15; x86-pti.md §3b), one
// hook per macro. PTI PGDs are 8 KiB pairs: bit 12 selects the user copy,
// bit 11 the user PCID. Without X86_FEATURE_PTI each macro is a jump over
// its body (`ALTERNATIVE "jmp .Lend_\@", "", X86_FEATURE_PTI`).

import { CR3_NOFLUSH } from '../../../arch/x86/cpu.ts';
import { movCr3, note, readCr3, type Hook } from '../../../arch/x86/ops.ts';
import { X86_CR3_PTI_PCID_USER_BIT } from '../../../kernel/x86/tlbstate.ts';
import type { X86Ctx } from '../types.ts';

/** `PTI_USER_PGTABLE_MASK`: bit 12 (PAGE_SHIFT). */
export const PTI_USER_PGTABLE_MASK = 1n << 12n;
/** `PTI_USER_PCID_MASK`: bit 11. */
export const PTI_USER_PCID_MASK = 1n << BigInt(X86_CR3_PTI_PCID_USER_BIT);
/** `andq $(0x7FF)`: the kernel PCID, which indexes `user_pcid_flush_mask`. */
const ASID_MASK = 0x7ffn;

/** `ADJUST_KERNEL_CR3`: NOFLUSH with PCID, then clear the user PCID and user PGD bits. */
const adjustKernelCr3 = (c: X86Ctx, cr3: bigint): bigint => (c.opts.pcid ? cr3 | CR3_NOFLUSH : cr3) & ~(PTI_USER_PCID_MASK | PTI_USER_PGTABLE_MASK);

/** `SWITCH_TO_KERNEL_CR3 scratch_reg`. */
export function* switchToKernelCr3(c: X86Ctx): Hook {
  if (!c.pti) return;
  yield movCr3(adjustKernelCr3(c, yield* readCr3()));
}

/**
 * Whether the user PCID of this kernel PCID has a deferred flush: `bt` on
 * `user_pcid_flush_mask`, and `btr` to clear it when it does.
 */
export function takeUserFlush(c: X86Ctx, cr3: bigint): boolean {
  const bit = 1 << Number(cr3 & ASID_MASK);
  if (!(c.tlbstate.user_pcid_flush_mask & bit)) return false;
  c.tlbstate.user_pcid_flush_mask &= ~bit;
  return true;
}

/**
 * `SWITCH_TO_USER_CR3_NOSTACK` (and `_STACK`): with PCID, flush the user
 * PCID only if a flush is pending for it (else set NOFLUSH), and flip to the
 * user PCID; then flip to the user PGD. Without PCID every CR3 write flushes.
 */
export function* switchToUserCr3(c: X86Ctx): Hook {
  if (!c.pti) return;
  let cr3 = yield* readCr3();
  if (c.opts.pcid) {
    if (takeUserFlush(c, cr3)) yield note('user_pcid_flush_mask: flush the user PCID (NOFLUSH clear)');
    else cr3 |= CR3_NOFLUSH;
    cr3 |= PTI_USER_PCID_MASK;
  }
  yield movCr3(cr3 | PTI_USER_PGTABLE_MASK);
}

/** `SAVE_AND_SWITCH_TO_KERNEL_CR3 scratch_reg save_reg`: returns the saved CR3; switches only if the user PGD was live. */
export function* saveAndSwitchToKernelCr3(c: X86Ctx): Hook<bigint | undefined> {
  if (!c.pti) return undefined;
  const save = yield* readCr3();
  if (save & PTI_USER_PGTABLE_MASK) yield movCr3(adjustKernelCr3(c, save));
  return save;
}

/**
 * `RESTORE_CR3 scratch_reg save_reg`: "KERNEL pages can always resume with
 * NOFLUSH as we do explicit flushes"; a user CR3 honours a pending flush
 * of its PCID.
 */
export function* restoreCr3(c: X86Ctx, save: bigint | undefined): Hook {
  if (!c.pti || save === undefined) return;
  if (!c.opts.pcid) { yield movCr3(save); return; }
  const flush = (save & PTI_USER_PGTABLE_MASK) !== 0n && takeUserFlush(c, save);
  yield movCr3(flush ? save : save | CR3_NOFLUSH);
}
