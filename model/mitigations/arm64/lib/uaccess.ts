// ARM64_SW_TTBR0_PAN with KPTI: `__uaccess_ttbr0_disable` and
// `__uaccess_ttbr0_enable` (arch/arm64/include/asm/asm-uaccess.h as fixed
// after the KPTI series: mask the ASID before adding, docs/sources/arm64-kpti.md §4b).
// "Disabled" is TTBR0 = reserved_ttbr0 and TTBR1.ASID = 0.

import { daif, isb, mrs, msr, type Hook } from '../../../arch/arm64/ops.ts';
import { TTBR_ASID_MASK } from '../../../arch/arm64/sysreg.ts';
import { SWAPPER_DIR_SIZE } from '../../../kernel/arm64/image.ts';
import type { Arm64Ctx } from '../types.ts';

/** `__uaccess_ttbr0_disable tmp1`. */
export function* uaccessTtbr0Disable(): Hook {
  let tmp1 = yield* mrs('TTBR1_EL1'); // swapper_pg_dir
  tmp1 &= ~TTBR_ASID_MASK;
  tmp1 += BigInt(SWAPPER_DIR_SIZE); // reserved_ttbr0 at the end of swapper_pg_dir
  yield msr('TTBR0_EL1', tmp1); // set reserved TTBR0_EL1
  yield isb();
  tmp1 -= BigInt(SWAPPER_DIR_SIZE);
  yield msr('TTBR1_EL1', tmp1); // set reserved ASID
  yield isb();
}

/** `__uaccess_ttbr0_enable tmp1, tmp2`: the ASID from the saved TTBR0 into TTBR1, then TTBR0. */
export function* uaccessTtbr0Enable(c: Arm64Ctx): Hook {
  const tmp1 = c.current!.ttbr0; // ldr tmp1, [tsk, #TSK_TI_TTBR0]
  let tmp2 = yield* mrs('TTBR1_EL1');
  tmp2 = (tmp2 & ~TTBR_ASID_MASK) | (tmp1 & TTBR_ASID_MASK); // extr/ror: TTBR1[63:48] = ttbr0[63:48]
  yield msr('TTBR1_EL1', tmp2); // set the active ASID
  yield isb();
  yield msr('TTBR0_EL1', tmp1); // set the non-PAN TTBR0_EL1
  yield isb();
}

/** `uaccess_ttbr0_disable`: with IRQs masked to avoid preemption. */
export function* uaccessDisable(c: Arm64Ctx): Hook {
  if (!c.opts.swPan) return;
  yield daif(true);
  yield* uaccessTtbr0Disable();
  yield daif(false);
}

/** `uaccess_ttbr0_enable`: IRQs masked, since a context switch could roll the ASID over. */
export function* uaccessEnable(c: Arm64Ctx): Hook {
  if (!c.opts.swPan) return;
  yield daif(true);
  yield* uaccessTtbr0Enable(c);
  yield daif(false);
}
