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
//
// A property of the state, judged whenever what it reads of a CPU changes:
// its TLB, or its translation context (tag, live root, privilege, task).
// Those change at different ops on each architecture (arm64: a TTBR write
// takes effect at a context synchronization event, ISB, exception entry or
// ERET, Arm ARM D24.1, docs/sources/arm64-asid-and-arm-arm.md §3c; x86: the
// current PCID and root are CR3's the moment MOV CR3 retires, SDM §4.10.1,
// and CPL changes at SYSRET, IRET and interrupt delivery), so the check
// compares the state itself rather than naming ops.

import { vaHex } from '../../model/arch/va.ts';
import { mmOf, type Cached, type IsolationView } from '../../model/view.ts';
import { violation, type Invariant, type Violation } from './types.ts';

/** Everything the judgement reads of one CPU: equal inputs give the same verdict. */
interface Inputs {
  /** Kept while the TLB is unchanged (both views memoise it per TLB state). */
  readonly cached: readonly Cached[];
  readonly tag: number;
  /** Ghost names of the live roots (`CR3 (pgd(mm 3) (user))`): the mm whose tables the CPU walks. */
  readonly roots: readonly { readonly name: string }[];
  readonly atUser: boolean;
  readonly mm: number | undefined;
}

const inputs = (v: IsolationView, c: number): Inputs => ({ cached: v.cached(c), tag: v.tag(c), roots: v.roots(c), atUser: v.atUser(c), mm: v.current(c)?.mm.id });

const same = (a: Inputs, b: Inputs): boolean =>
  a.cached === b.cached && a.tag === b.tag && a.atUser === b.atUser && a.mm === b.mm &&
  a.roots.length === b.roots.length && a.roots.every((r, i) => r.name === b.roots[i].name);

function perCpu(c: number, { cached, tag, roots }: Inputs): Violation | undefined {
  const live = roots.map((r) => mmOf(r.name)).find((x) => x !== undefined);
  const byTag = new Map<number, { mm: number; owner: string; va: number }>();
  for (const e of cached) {
    const mm = e.tag === undefined ? undefined : mmOf(e.owner);
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

/** Where one mm has one tag everywhere (`globalTags`): no two CPUs run it at EL0 under different tags. */
function sameTagEverywhere(all: readonly Inputs[]): Violation | undefined {
  const seen = new Map<number, { cpu: number; tag: number }>();
  for (let c = 0; c < all.length; c++) {
    const i = all[c];
    if (!i.atUser || i.mm === undefined) continue;
    const other = seen.get(i.mm);
    if (other && other.tag !== i.tag) {
      return violation('asid-uniqueness', 'one mm runs with two ASIDs', { mm: i.mm, cpu: c, asid: i.tag, otherCpu: other.cpu, otherAsid: other.tag });
    }
    seen.set(i.mm, { cpu: c, tag: i.tag });
  }
  return undefined;
}

/** Per view: each CPU's inputs when it was last judged clean (dropped on a violation, so one is never served stale). */
const judged = new WeakMap<IsolationView, Inputs[]>();

function judge(v: IsolationView, last: Inputs[]): Violation | undefined {
  let changed = false;
  for (let c = 0; c < v.ncpus; c++) {
    const now = inputs(v, c);
    if (last[c] && same(now, last[c])) continue;
    changed = true;
    const bad = perCpu(c, now);
    if (bad) return bad;
    last[c] = now;
  }
  return changed && v.globalTags ? sameTagEverywhere(last) : undefined;
}

export const asidUniqueness: Invariant = {
  id: 'asid-uniqueness',
  check(k) {
    const v = k.view;
    let last = judged.get(v);
    if (!last) judged.set(v, (last = []));
    const bad = judge(v, last);
    if (bad) judged.delete(v);
    return bad;
  },
};
