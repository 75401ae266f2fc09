// x86 global pages (issue 4, DESIGN.md "Later"): a global TLB entry (G = 1
// with CR4.PGE, SDM §4.10.2.4) matches every PCID and survives every CR3
// switch, so user mode can use it whatever the mitigation loads. It may
// therefore only map frames of the declared user-shared set; the set may
// never hold `kernel-secret` or `page-table` frames.
//
// A property of the state: every global entry cached on any CPU is judged
// again whenever that can change its verdict, a CPU's TLB changing (a fill)
// or a frame's label or the user-shared set changing (`labelEpoch`: a PEBS
// buffer freed while a CPU still caches its cpu_entry_area alias). Entries
// a step fills are judged too, even if the step drops them again (a #PF
// invalidates the faulting page, SDM §4.10.4.1, invalidate.ts `pageFaultScope`).

import { FRAME } from '../../model/arch/phys.ts';
import { vaHex } from '../../model/arch/va.ts';
import { describe } from '../../model/arch/x86/pte.ts';
import { entrySize } from '../../model/arch/x86/tlb.ts';
import type { Cached, IsolationView } from '../../model/view.ts';
import { forbidden, sharedSetHolds } from './frames.ts';
import { violation, type Invariant, type Step, type Violation } from './types.ts';

/** What a global entry is judged on. */
type Global = Pick<Cached, 'vaBase' | 'size' | 'pa' | 'text' | 'owner'>;

/**
 * Large entries found wholly inside each user-shared set. The verdict reads
 * no label (labels only pick the witness), so unlike `forbiddenMemo` it
 * survives label changes: the 2 MiB entry-text PMD would otherwise be judged
 * again at every allocation. Keyed by the set object, which the view
 * replaces rather than changes (X86View builds a new one when a PEBS buffer
 * comes or goes).
 */
const clean = new WeakMap<ReadonlySet<number>, Set<string>>();

/** Every frame of [pa, pa + size) is user-shared. */
function inShared(v: IsolationView, shared: ReadonlySet<number>, pa: number, size: number): boolean {
  if (size <= FRAME) return shared.has(pa);
  const key = `${pa}:${size}`;
  let known = clean.get(shared);
  if (!known) clean.set(shared, (known = new Set()));
  if (known.has(key)) return true;
  if (forbidden(v, pa, size, (a) => shared.has(a))) return false;
  known.add(key);
  return true;
}

function judge(v: IsolationView, cpu: number, e: Global): Violation | undefined {
  const shared = v.userShared();
  if (inShared(v, shared, e.pa, e.size)) return undefined;
  const bad = forbidden(v, e.pa, e.size, (pa) => shared.has(pa))!; // the most damaging frame, for the witness
  return violation('x86-global', 'a global TLB entry maps a frame outside the user-shared set', {
    cpu, va: vaHex(e.vaBase + (bad.pa - e.pa)), pa: `0x${bad.pa.toString(16)}`, label: bad.label,
    frame: v.frameName(bad.pa), entry: e.text, from: e.owner,
  });
}

/** Global entries this step filled, as they were cached. */
function judgeFills(v: IsolationView, step: Step): Violation | undefined {
  for (const e of step.effects) {
    if (e.kind !== 'fill' || !('global' in e.entry) || !e.entry.global) continue;
    const x = e.entry;
    const bad = judge(v, e.cpu, { vaBase: x.vaBase, size: entrySize(x), pa: x.pa, get text() { return describe(x.leaf, x.level); }, owner: x.owner });
    if (bad) return bad;
  }
  return undefined;
}

function judgeCpu(v: IsolationView, c: number, tlb: readonly Cached[]): Violation | undefined {
  for (const e of tlb) {
    const bad = e.tag === undefined ? judge(v, c, e) : undefined;
    if (bad) return bad;
  }
  return undefined;
}

/** Per view: the label epoch, and each CPU's TLB when it was last judged clean at that epoch (dropped on a violation). */
const judged = new WeakMap<IsolationView, { epoch: number; tlbs: (readonly Cached[])[] }>();

export const x86Global: Invariant = {
  id: 'x86-global',
  initial: (k) => sharedSetHolds(k.view, 'x86-global'),
  check(k, step) {
    if (k.arch !== 'x86') return undefined;
    const v = k.view, epoch = v.labelEpoch();
    let last = judged.get(v);
    if (!last || last.epoch !== epoch) judged.set(v, (last = { epoch, tlbs: [] }));
    let bad = judgeFills(v, step);
    // `cached` keeps its array while the TLB is unchanged (X86View memoises it per TLB state).
    for (let c = 0; c < v.ncpus && !bad; c++) {
      const tlb = v.cached(c);
      if (tlb === last.tlbs[c]) continue;
      bad = judgeCpu(v, c, tlb);
      if (!bad) last.tlbs[c] = tlb;
    }
    if (bad) judged.delete(v);
    return bad;
  },
};
