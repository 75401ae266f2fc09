// arch/arm64/include/asm/tlbflush.h, Linux 4.16 (docs/sources/arm64-kpti.md §2a).
// `user` is `arm64_kernel_unmapped_at_el0()`: whether `__tlbi_user` also
// invalidates the user ASID (`asid | USER_ASID_FLAG`). Before "arm64: mm:
// Invalidate both kernel and user ASIDs when performing TLBI" it did not exist.

import { dsb, isb, tlbi, type Hook, type TlbiType } from '../../../arch/arm64/ops.ts';
import type { Arm64Hooks } from '../types.ts';
import type { VA } from '../../../arch/va.ts';
import { ASID, type Mm } from '../../../kernel/task.ts';

/** `USER_ASID_FLAG` (asm/mmu.h): TTBR bit 48, i.e. ASID bit 0. */
export const USER_ASID_FLAG = 1n << 48n;
/** `MAX_TLB_RANGE`: larger ranges fall back to `flush_tlb_mm`. */
const MAX_TLB_RANGE = 1024 * 4096;

/** `__tlbi(op, arg)` then `__tlbi_user(op, arg)` when the kernel is unmapped at EL0. */
function* tlbiBoth(type: TlbiType, asid: number, user: boolean, va?: VA): Hook {
  yield tlbi(type, true, { va, asid });
  if (user) yield tlbi(type, true, { va, asid: asid | 1 });
}

/** `local_flush_tlb_all`: `dsb(nshst); tlbi vmalle1; dsb(nsh); isb()`. */
export function* localFlushTlbAll(): Hook {
  yield dsb('nshst');
  yield tlbi('VMALLE1', false);
  yield dsb('nsh');
  yield isb();
}

/** `flush_tlb_mm`: both ASIDs of the mm, broadcast. */
export function* flushTlbMm(mm: Mm, user: boolean): Hook {
  yield dsb('ishst');
  yield* tlbiBoth('ASIDE1', ASID(mm), user);
  yield dsb('ish');
}

/** `flush_tlb_page`: last-level entries for one page, both ASIDs, broadcast. */
export function* flushTlbPage(mm: Mm, uaddr: VA, user: boolean): Hook {
  yield dsb('ishst');
  yield* tlbiBoth('VALE1', ASID(mm), user, uaddr);
  yield dsb('ish');
}

/** `__flush_tlb_range(vma, start, end, last_level)`. */
export function* flushTlbRange(mm: Mm, start: VA, end: VA, lastLevel: boolean, user: boolean): Hook {
  if (end - start > MAX_TLB_RANGE) return yield* flushTlbMm(mm, user);
  yield dsb('ishst');
  for (let addr = start; addr < end; addr += 4096) yield* tlbiBoth(lastLevel ? 'VALE1' : 'VAE1', ASID(mm), user, addr);
  yield dsb('ish');
}

/** The three flush hooks, with `__tlbi_user` on (`user`) or off. */
export const tlbFlushHooks = (user: boolean): Pick<Arm64Hooks, 'flushTlbMm' | 'flushTlbPage' | 'flushTlbRange'> => ({
  flushTlbMm: (c, mm) => flushTlbMm(mm, user),
  flushTlbPage: (c, mm, uaddr) => flushTlbPage(mm, uaddr, user),
  flushTlbRange: (c, mm, start, end, lastLevel) => flushTlbRange(mm, start, end, lastLevel, user),
});
