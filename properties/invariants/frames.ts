// Judging frames by their ghost labels, for the isolation invariants.

import { FRAME, type Label } from '../../model/arch/phys.ts';
import { vaHex } from '../../model/arch/va.ts';
import type { InvariantId } from '../../model/claims.ts';
import type { IsolationView } from '../../model/view.ts';
import { violation, type Violation } from './types.ts';

/** Worse labels first: the witness names the most damaging frame in a range. */
const SEVERITY: readonly string[] = ['kernel-secret', 'page-table', 'kernel-data', 'kernel-text', 'trampoline', 'entry-area', 'user', 'guest', 'free'];
export const rank = (l: Label): number => SEVERITY.indexOf(l.replace(/\(\d+\)$/, ''));

/** The most damaging frame in [pa, pa+size) that `ok` rejects. */
export function forbidden(v: IsolationView, pa: number, size: number, ok: (pa: number, l: Label) => boolean): { pa: number; label: Label } | undefined {
  let worst: { pa: number; label: Label } | undefined;
  for (let a = pa; a < pa + size; a += FRAME) {
    const label = v.label(a);
    if (!ok(a, label) && (!worst || rank(label) < rank(worst.label))) {
      worst = { pa: a, label };
      if (rank(label) === 0) break;
    }
  }
  return worst;
}

const memo = new WeakMap<IsolationView, { epoch: number; results: Map<string, ReturnType<typeof forbidden>> }>();

/**
 * `forbidden`, memoised per view while no label and no user-shared frame
 * changes (`labelEpoch`): block and PMD entries cover 512 frames, judged at
 * every step. `key` names what `ok` depends on besides those.
 */
export function forbiddenMemo(v: IsolationView, pa: number, size: number, key: string, ok: (pa: number, l: Label) => boolean): ReturnType<typeof forbidden> {
  if (size <= FRAME) return forbidden(v, pa, size, ok);
  const epoch = v.labelEpoch();
  let m = memo.get(v);
  if (!m || m.epoch !== epoch) memo.set(v, (m = { epoch, results: new Map() }));
  const k = `${pa}:${size}:${key}`;
  if (m.results.has(k)) return m.results.get(k);
  const r = forbidden(v, pa, size, ok);
  m.results.set(k, r);
  return r;
}

const neverShared = (_pa: number, l: Label): boolean => l !== 'kernel-secret' && l !== 'page-table';

/** The user-shared set may never hold `kernel-secret` or `page-table` frames (DESIGN.md), nor may the per-mm shared ranges (x86's LDT remap). */
export function sharedSetHolds(v: IsolationView, id: InvariantId): Violation | undefined {
  for (const pa of v.userShared()) {
    const label = v.label(pa);
    if (!neverShared(pa, label)) return violation(id, 'user-shared set holds a forbidden frame', { pa: `0x${pa.toString(16)}`, label, frame: v.frameName(pa) });
  }
  return perMmSharedHolds(v, id);
}

/** What the user tables map in per-mm shared ranges (`IsolationView.perMmShared`) is never `kernel-secret` or `page-table`. */
export function perMmSharedHolds(v: IsolationView, id: InvariantId): Violation | undefined {
  for (const r of v.perMmShared?.() ?? []) {
    const bad = forbidden(v, r.pa, r.size, neverShared);
    if (bad) return violation(id, 'user-shared set holds a forbidden frame', { where: r.where, va: vaHex(r.vaBase + (bad.pa - r.pa)), pa: `0x${bad.pa.toString(16)}`, label: bad.label, frame: v.frameName(bad.pa) });
  }
  return undefined;
}
