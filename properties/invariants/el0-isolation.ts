// EL0/CPL3 isolation (DESIGN.md), for every architecture through its
// IsolationView: on a CPU running user code, no translation reachable in its
// current context targets a frame that is not the current task's or in the
// declared user-shared set. Reachable: by a walk from the live roots (or
// from a cached table descriptor under the current tag), or by a TLB entry
// tagged with the current ASID/PCID or global. Permissions are ignored, as
// Meltdown ignores them. The user-shared set may never hold `kernel-secret`
// or `page-table` frames, at boot or, for the per-mm shared ranges (x86's
// LDT remap, which a syscall maps), at any step.

import type { Label } from '../../model/arch/phys.ts';
import { vaHex } from '../../model/arch/va.ts';
import type { IsolationView, Reach } from '../../model/view.ts';
import { violation, type Invariant, type Violation } from './types.ts';
import { forbiddenMemo, perMmSharedHolds, rank, sharedSetHolds } from './frames.ts';

function checkCpu(v: IsolationView, c: number, shared: ReadonlySet<number>): Violation | undefined {
  if (!v.atUser(c)) return undefined;
  const task = v.current(c), mine = task ? `user(${task.tgid})` : undefined;
  const ok = (pa: number, l: Label) => l === mine || shared.has(pa), key = mine ?? 'idle';
  const report = (rule: string, via: string, r: Reach, bad: { pa: number; label: Label }) => violation('el0-isolation', rule, {
    cpu: c, via, va: vaHex(r.vaBase + (bad.pa - r.pa)), pa: `0x${bad.pa.toString(16)}`, label: bad.label, frame: v.frameName(bad.pa), descriptor: r.text,
  });
  // By walk: report the most damaging frame reachable (a kernel secret over a free page).
  let worst: { root: string; r: Reach; bad: { pa: number; label: Label } } | undefined;
  for (const root of v.roots(c)) {
    for (const r of v.reachable(root.pa, root.upper)) {
      const bad = forbiddenMemo(v, r.pa, r.size, key, ok);
      if (bad && (!worst || rank(bad.label) < rank(worst.bad.label))) worst = { root: root.name, r, bad };
      if (worst && rank(worst.bad.label) === 0) break;
    }
  }
  if (worst) return report('user code reaches a frame by walk', `walk from ${worst.root}`, worst.r, worst.bad);
  const tag = v.tag(c);
  for (const t of v.cachedTables(c)) {
    if (t.tag !== tag) continue;
    for (const r of v.reachableBelow(t)) {
      const bad = forbiddenMemo(v, r.pa, r.size, key, ok);
      if (bad) return report('user code reaches a frame through the walk cache', `walk-cache entry L${t.level} tag=${t.tag} from ${t.owner}`, r, bad);
    }
  }
  for (const e of v.cached(c)) {
    if (e.tag !== undefined && e.tag !== tag) continue;
    const bad = forbiddenMemo(v, e.pa, e.size, key, ok);
    if (bad) return report('user code reaches a frame through the TLB', `TLB entry ${e.tag === undefined ? 'global' : `tag=${e.tag}`} from ${e.owner}`, e, bad);
  }
  return undefined;
}

export const el0Isolation: Invariant = {
  id: 'el0-isolation',
  initial: (k) => sharedSetHolds(k.view, 'el0-isolation'),
  check(k) {
    const v = k.view, shared = v.userShared();
    for (let c = 0; c < v.ncpus; c++) {
      const bad = checkCpu(v, c, shared);
      if (bad) return bad;
    }
    return perMmSharedHolds(v, 'el0-isolation');
  },
};
