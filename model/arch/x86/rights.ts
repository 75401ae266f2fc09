// Access rights of one translation: Intel SDM Vol. 3A §4.6 "Access Rights",
// with CR0.WP = 1 and IA32_EFER.NXE = 1, as Linux sets them.
// Simplification: SMAP and SMEP (CR4 bits 21 and 20) are not modelled, so
// supervisor-mode accesses and fetches to user pages are allowed; a hook that
// accesses user memory on the user's behalf says so with `ldtr`/`sttr`,
// which are checked as user-mode accesses. Protection keys are not modelled.

import type { AccessKind } from './ops.ts';
import type { Perms } from './walk.ts';

/**
 * Check an access of `kind` with user-mode (`el` 0) or supervisor-mode (`el`
 * 1) rights against `p`: user-mode accesses need U/S; writes need R/W in
 * either mode (WP = 1); instruction fetches need XD clear. Supervisor-mode
 * reads may touch any page (§4.6.1).
 */
export function permCheck(p: Perms, kind: AccessKind | 'load' | 'store', el: 0 | 1): { fault?: 'permission' } {
  const write = kind === 'str' || kind === 'sttr' || kind === 'store';
  const ok = (el === 1 || p.user) && (!write || p.write) && (kind !== 'fetch' || !p.nx);
  return ok ? {} : { fault: 'permission' };
}
