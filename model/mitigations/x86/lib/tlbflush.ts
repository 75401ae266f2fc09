// The local TLB-flush primitives of arch/x86/include/asm/tlbflush.h (PTI
// era, docs/sources/x86-pti.md §4a; 4.16 names, 4.15's in brackets):
// `invalidate_user_asid`, `__native_flush_tlb`, `__native_flush_tlb_global`,
// `__native_flush_tlb_one_user` [`__flush_tlb_single`], `__flush_tlb_one_kernel`
// [`__flush_tlb_one`], `__flush_tlb_all`. Each CPU flushes only itself.

import { invlpg, invpcidFlushAll, invpcidFlushOne, movCr3, movCr4, note, readCr3, readCr4, type Hook } from '../../../arch/x86/ops.ts';
import { X86_CR4_PGE } from '../../../arch/x86/cpu.ts';
import type { VA } from '../../../arch/va.ts';
import { kernPcid, userPcid } from '../../../kernel/x86/tlbstate.ts';
import type { X86Ctx, X86Hooks } from '../types.ts';

/** X86_FEATURE_INVPCID_SINGLE: set by `setup_pcid` only when PCID is on and INVPCID exists. */
export const invpcidSingle = (c: X86Ctx): boolean => c.opts.pcid && c.opts.invpcid;

/**
 * `invalidate_user_asid(asid)`: defer the flush of the user PCID to the
 * next `SWITCH_TO_USER_CR3`. Nothing to do without PTI, or without PCID
 * ("the CR3 write will have flushed it").
 */
export function* invalidateUserAsid(c: X86Ctx, asid: number): Hook {
  if (!c.opts.pcid || !c.pti) return;
  c.tlbstate.user_pcid_flush_mask |= 1 << kernPcid(asid);
  yield note(`invalidate_user_asid(${asid}): __set_bit(${kernPcid(asid)}, user_pcid_flush_mask)`);
}

/** `__native_flush_tlb`: "flush the entire current user mapping". */
export function* nativeFlushTlb(c: X86Ctx): Hook {
  yield* invalidateUserAsid(c, c.tlbstate.loaded_mm_asid);
  yield movCr3(yield* readCr3()); // native_write_cr3(__native_read_cr3())
}

/** `__native_flush_tlb_global`: INVPCID type 2 if the CPU has it, else toggle CR4.PGE. */
export function* nativeFlushTlbGlobal(c: X86Ctx): Hook {
  if (c.opts.invpcid) { yield invpcidFlushAll(); return; }
  const cr4 = yield* readCr4();
  yield movCr4(cr4 ^ X86_CR4_PGE);
  yield movCr4(cr4);
}

/** `__native_flush_tlb_one_user(addr)`: INVLPG (this PCID and globals), then the user PCID's copy. */
export function* nativeFlushTlbOneUser(c: X86Ctx, addr: VA): Hook {
  const asid = c.tlbstate.loaded_mm_asid;
  yield invlpg(addr);
  if (!c.pti) return;
  if (!invpcidSingle(c)) yield* invalidateUserAsid(c, asid);
  else yield invpcidFlushOne(userPcid(asid), addr);
}

/** `__flush_tlb_one_kernel(addr)`: the user flush, then under PTI every other ASID at its next use (`invalidate_other_asid`). */
export function* flushTlbOneKernel(c: X86Ctx, addr: VA, oneUser: (c: X86Ctx, a: VA) => Hook = nativeFlushTlbOneUser): Hook {
  yield* oneUser(c, addr);
  if (!c.pti) return;
  c.tlbstate.invalidate_other = true;
  yield note('invalidate_other_asid()');
}

/** The flush hooks as Linux has them; a broken mitigation replaces one. */
export const tlbFlushHooks: Pick<X86Hooks, 'flushTlbOneUser' | 'flushTlbOneKernel' | 'flushTlbLocal' | 'flushTlbAll'> = {
  flushTlbOneUser: nativeFlushTlbOneUser,
  flushTlbOneKernel: (c, a) => flushTlbOneKernel(c, a),
  flushTlbLocal: nativeFlushTlb,
  flushTlbAll: nativeFlushTlbGlobal, // __flush_tlb_all with X86_FEATURE_PGE
};
