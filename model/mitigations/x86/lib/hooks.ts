// Linux's x86 hooks, assembled: with `pti` false every CR3 macro is a jump
// over its body and `pti_init` returns at once. Mitigations override one.

import type { X86Hooks } from '../types.ts';
import { restoreCr3, saveAndSwitchToKernelCr3, switchToKernelCr3, switchToUserCr3 } from './calling.ts';
import { ptiInit } from './pti.ts';
import { dsHooks } from './ds.ts';
import { mapLdtStruct, unmapLdtStruct } from './ldt.ts';
import { cpuSetup } from './setup.ts';
import { switchMmIrqsOff } from './tlb.ts';
import { tlbFlushHooks } from './tlbflush.ts';

/** The hooks of Linux 4.15 (`globalShared`: with 4.17's global shared areas). */
export const linuxHooks = (globalShared: boolean): X86Hooks => ({
  cpuSetup,
  layout: (c) => ptiInit(c, globalShared),
  switchToKernelCr3,
  switchToUserCr3,
  saveAndSwitchToKernelCr3,
  restoreCr3,
  switchMmIrqsOff: (c, _prev, next, tsk) => switchMmIrqsOff(c, next, tsk),
  ...tlbFlushHooks,
  mapLdtStruct,
  unmapLdtStruct,
  ...dsHooks(globalShared),
});
