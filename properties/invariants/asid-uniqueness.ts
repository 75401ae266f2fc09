// Tag (ASID/PCID) uniqueness: no two live mms ever share a usable TLB tag
// on one CPU. Compare Catalin Marinas' specs: `UniqueASIDPerCPU`
// (asidalloc.tla: two entries on one CPU from different tasks have
// different ASIDs), `UniqueASID`/`BaddrASIDMatch` (arm64kpti.tla: an entry's
// ASID belongs to the mm whose tables it came from) and, where one mm has
// one tag on every CPU (arm64), `SameASIDActiveTask`. Owners are the ghost
// names of the tables an entry was walked from; kernel tables are shared by
// every mm and exempt. (`GlobalEntry`, only the trampoline is global, is
// implied by el0-isolation: a global entry is usable at EL0.) Entries left by
// an mm that exited still count: its tag stays allocated until the
// allocator's flush removes them.

import { vaHex } from '../../model/arch/va.ts';
import { mmOf, type IsolationView } from '../../model/view.ts';
import { violation, type Invariant, type Violation } from './types.ts';

function perCpu(v: IsolationView, c: number): Violation | undefined {
  const byTag = new Map<number, { mm: number; owner: string; va: number }>();
  const tag = v.tag(c), live = v.roots(c).map((r) => mmOf(r.name)).find((x) => x !== undefined);
  for (const e of v.cached(c)) {
    const mm = mmOf(e.owner);
    if (e.tag === undefined || mm === undefined) continue;
    const other = byTag.get(e.tag);
    if (other && other.mm !== mm) {
      return violation('asid-uniqueness', 'one tag holds two mms\' entries on one CPU', { cpu: c, tag: e.tag, entry: `${e.owner} at ${vaHex(e.vaBase)}`, other: `${other.owner} at ${vaHex(other.va)}` });
    }
    byTag.set(e.tag, { mm, owner: e.owner, va: e.vaBase });
    if (e.tag === tag && live !== undefined && mm !== live) {
      return violation('asid-uniqueness', 'current tag holds another mm\'s entry', { cpu: c, tag, live: `mm ${live}`, entry: `${e.owner} at ${vaHex(e.vaBase)}` });
    }
  }
  return undefined;
}

export const asidUniqueness: Invariant = {
  id: 'asid-uniqueness',
  check(k, step) {
    const v = k.view;
    // Only fills and context changes (a register write taking effect) can break it.
    const op = step.op?.op;
    if (!step.effects.some((e) => e.kind === 'fill') && op !== 'isb' && op !== 'eret' && op !== 'exception' && !step.hw) return undefined;
    const seen = new Map<number, { cpu: number; tag: number }>();
    for (let c = 0; c < v.ncpus; c++) {
      const bad = perCpu(v, c);
      if (bad) return bad;
      const t = v.current(c);
      if (!v.globalTags || !v.atUser(c) || !t) continue;
      const other = seen.get(t.mm.id);
      if (other && other.tag !== v.tag(c)) {
        return violation('asid-uniqueness', 'one mm runs with two ASIDs', { mm: t.mm.id, cpu: c, asid: v.tag(c), otherCpu: other.cpu, otherAsid: other.tag });
      }
      seen.set(t.mm.id, { cpu: c, tag: v.tag(c) });
    }
    return undefined;
  },
};
