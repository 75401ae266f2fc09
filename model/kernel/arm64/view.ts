// The arm64 kernel's IsolationView (model/view.ts): TTBR0/TTBR1, the ASID
// from TTBR1 (TCR_EL1.A1), TLBs and walk caches, the ASID pair of an mm.
// Entries are converted once per TLB state (the TLB keeps its array until
// it changes), since invariants read them after every step.

import { describe, INVALID } from '../../arch/arm64/descriptor.ts';
import { reachable, reachableBelow } from '../../arch/arm64/reach.ts';
import type { TlbEntry } from '../../arch/arm64/tlb.ts';
import { entrySize } from '../../arch/arm64/tlb.ts';
import type { WalkEntry } from '../../arch/arm64/walkcache.ts';
import { walkFrom, type WalkResult } from '../../arch/arm64/walk.ts';
import type { Label } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import type { Cached, CachedTable, Change, IsolationView, Judged, MmTag, Reach } from '../../view.ts';
import type { Mm, UserPage } from '../task.ts';
import { ASID } from '../task.ts';
import type { Arm64Kernel } from './kernel.ts';

const asCached = new WeakMap<readonly TlbEntry[], Cached[]>();
const asTables = new WeakMap<readonly WalkEntry[], CachedTable[]>();

function cached(e: TlbEntry): Cached {
  return {
    vaBase: e.vaBase, size: entrySize(e), pa: e.oa, tag: e.asid, owner: e.owner, user: e.perms.el0, write: e.perms.write,
    get text() { return describe(e.leaf); },
  };
}

export class Arm64View implements IsolationView {
  readonly globalTags = true;
  constructor(private readonly k: Arm64Kernel) {}

  get ncpus(): number { return this.k.machine.cpus.length; }
  atUser(cpu: number): boolean { return this.k.machine.cpus[cpu].EL === 0; }
  tag(cpu: number): number { return this.k.machine.cpus[cpu].params.asid; }

  roots(cpu: number) {
    const p = this.k.machine.cpus[cpu].params;
    return [
      { pa: p.ttbr0.BADDR, name: `TTBR0_EL1 (${this.frameName(p.ttbr0.BADDR)})`, upper: false },
      { pa: p.ttbr1.BADDR, name: `TTBR1_EL1 (${this.frameName(p.ttbr1.BADDR)})`, upper: true },
    ];
  }

  reachable(root: number, upper: boolean): readonly Reach[] { return reachable(this.k.machine, root, upper); }

  cached(cpu: number): readonly Cached[] {
    const entries = this.k.machine.cpus[cpu].tlb.entries();
    let c = asCached.get(entries);
    if (!c) asCached.set(entries, (c = entries.map(cached)));
    return c;
  }

  cachedTables(cpu: number): readonly CachedTable[] {
    const all = this.k.machine.cpus[cpu].walkCache.entries();
    let c = asTables.get(all);
    if (!c) asTables.set(all, (c = all.map((w) => ({ vaBase: w.vaBase, level: w.level, next: w.next, tag: w.asid, owner: w.owner }))));
    return c;
  }

  reachableBelow(t: CachedTable): readonly Reach[] { return reachableBelow(this.k.machine, t.next, t.level + 1, t.vaBase); }
  label(pa: number): Label { return this.k.machine.mem.label(pa); }
  frameName(pa: number): string { return this.k.machine.mem.frame(pa)?.name ?? 'free'; }
  userShared(): ReadonlySet<number> { return new Set(this.k.mitigation.userShared(this.k.sym)); }
  /** The shared set is fixed at boot here. */
  labelEpoch(): number { return this.k.machine.mem.labels; }
  current(cpu: number) { return this.k.running[cpu]; }

  ideal(mm: Mm, va: VA, write: boolean, view: 'software' | 'walker'): Judged {
    const m = this.k.machine;
    const read = view === 'software' ? (t: number, i: number) => m.mem.readEntry(t, i) ?? INVALID : m.readDesc;
    return judge(walkFrom(read, mm.pgd, va), write);
  }

  /** KPTI pairs: the even (kernel) and odd (user) ASID, as the hardware width sees them; both flushed by broadcast TLBI. */
  tagsOf(mm: Mm, _cpu?: number): readonly MmTag[] {
    const mask = 2 ** this.k.opts.asidBits, a = ASID(mm);
    return this.k.asid.pairs
      ? [{ tag: a % mask, kind: 'kernel ASID', flushPending: false }, { tag: (a | 1) % mask, kind: 'user ASID', flushPending: false }]
      : [{ tag: a % mask, kind: 'ASID', flushPending: false }];
  }

  lookup(cpu: number, va: VA, tag: number): readonly Cached[] {
    return this.k.machine.cpus[cpu].tlb.lookup(va, tag).map(cached);
  }

  changes(cpu: number): readonly Change[] { return this.k.changes[cpu]; }
  inFlight(mm: Mm, va: VA): readonly UserPage[] { return this.k.inFlight(mm, va); }
}

/** EL0 permissions on a walk result. */
function judge(w: WalkResult, write: boolean): Judged {
  if (w.kind === 'fault') return { fault: 'translation' };
  return w.perms.el0 && (!write || w.perms.write) ? { pa: w.pa } : { fault: 'permission' };
}
