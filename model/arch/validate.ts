// Ops come from mitigation code the user wrote: each is checked before the
// machine runs it, so a malformed op is reported as bad input, not a crash.
// These checks are shared; each architecture checks its own ops.

import type { CommonOp } from './ops.ts';

const VA_LIMIT = 2 ** 49;

export const isVa = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < VA_LIMIT;
export const inRange = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Why a common op is malformed; undefined if it is well formed; null if `op` is not a common op. */
export function invalidCommon(op: { readonly op: string }): string | undefined | null {
  const o = op as CommonOp;
  switch (o.op) {
    case 'user': return isVa(o.va) ? undefined : 'user: va out of range';
    case 'lock': case 'unlock': return typeof o.lock === 'string' && o.lock ? undefined : `${o.op}: needs a lock name`;
    case 'wait': return typeof o.until === 'function' ? undefined : 'wait: needs an `until` function';
    case 'note': case 'hint': return undefined;
    default: return null;
  }
}

/** Not an object with an `op` field. */
export function notAnOp(op: unknown): string | undefined {
  return typeof op !== 'object' || op === null || !('op' in op) ? `hook yielded ${String(op)}, not an op` : undefined;
}
