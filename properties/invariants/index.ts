// The invariant registry, in the order reports list them.

import type { InvariantId } from '../../model/claims.ts';
import { asidUniqueness } from './asid-uniqueness.ts';
import { bbm } from './bbm.ts';
import { wxInvariant } from './wx.ts';
import { ngComplete } from './ng-complete.ts';
import { el0Isolation } from './el0-isolation.ts';
import { functional } from './functional.ts';
import { staleTlb } from './stale-tlb.ts';
import { tlbConflict } from './tlb-conflict.ts';
import { x86Global } from './x86-global.ts';
import type { Invariant } from './types.ts';

export const INVARIANT_CHECKS: Record<InvariantId, Invariant> = {
  'el0-isolation': el0Isolation,
  'stale-tlb': staleTlb,
  'asid-uniqueness': asidUniqueness,
  'functional': functional,
  'tlb-conflict': tlbConflict,
  'bbm': bbm,
  'wx': wxInvariant,
  'ng-complete': ngComplete,
  'x86-global': x86Global,
};

export type { Invariant, Violation, Step, Witness } from './types.ts';
