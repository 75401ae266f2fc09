// ARM64_SW_TTBR0_PAN under KPTI without restoring TTBR0 on return to user:
// `kernel_exit 0` skips `__uaccess_ttbr0_enable`, so EL0 runs on
// `reserved_ttbr0` and every user access faults. "arm64: mm: Temporarily
// disable ARM64_SW_TTBR0_PAN" and "arm64: mm: Fix and re-enable
// ARM64_SW_TTBR0_PAN" (KPTI series patches 2 and 6/18) exist because the
// two features interact here.

import { kptiHooks, mitigation as kpti, trampExitNative } from '../kpti.ts';
import type { Arm64Mitigation } from '../types.ts';

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-swpan-no-ttbr0-restore',
  title: 'KPTI with SW TTBR0 PAN that never restores the user TTBR0 on exit',
  source: 'drops __uaccess_ttbr0_enable from kernel_exit 0 (arch/arm64/kernel/entry.S; KPTI series patches 2 and 6/18)',
  options: { swPan: true },
  expect: { violates: ['functional'], twin: 'arm64/kpti' },
  // BUG: kernel_exit 0 without __uaccess_ttbr0_enable.
  hooks: { ...kptiHooks, el0Exit: (c) => trampExitNative(c) },
};
export default mitigation;
