// The x86 kernel's IsolationView (model/view.ts): one CR3 root for both
// halves, the current PCID, PCID-tagged and global TLB entries, and the
// tags an mm's translations may sit under on each CPU: the kernel and user
// PCID of every ASID slot that holds the mm (`cpu_tlbstate.ctxs[]`). A tag
// is flush-pending when the CPU will flush it before using it again: a slot
// whose `tlb_gen` is behind the mm's (`switch_mm_irqs_off` flushes it), a
// user PCID marked in `user_pcid_flush_mask` (`SWITCH_TO_USER_CR3` flushes
// it), or any other slot while `invalidate_other` is set.

import type { Label } from '../../arch/phys.ts';
import type { VA } from '../../arch/va.ts';
import { leavesBelow, pgdVa, reachable } from '../../arch/x86/reach.ts';
import { entrySize, type X86TlbEntry } from '../../arch/x86/tlb.ts';
import { walk, type X86WalkResult } from '../../arch/x86/walk.ts';
import { describe, isTable, NOT_PRESENT } from '../../arch/x86/pte.ts';
import type { Cached, Change, IsolationView, Judged, MmTag, Reach } from '../../view.ts';
import type { Mm, UserPage } from '../task.ts';
import type { X86Kernel } from './kernel.ts';
import { LDT_BASE_ADDR, pgdIndex } from './layout.ts';
import { PTI_USER_PGD_OFFSET } from './pgtable.ts';
import { kernPcid, userPcid } from './tlbstate.ts';

const asCached = new WeakMap<readonly X86TlbEntry[], Cached[]>();

function cached(e: X86TlbEntry): Cached {
  return {
    vaBase: e.vaBase, size: entrySize(e), pa: e.pa, tag: e.global ? undefined : e.pcid, owner: e.owner, user: e.perms.user, write: e.perms.write,
    get text() { return describe(e.leaf, e.level); },
  };
}

export class X86View implements IsolationView {
  readonly globalTags = false;
  private shared?: ReadonlySet<number>;
  /** The PEBS buffers `shared` was built with, and how many times it was built. */
  private pebsSeen: readonly (number | undefined)[] = [];
  private sharedEpoch = 0;
  constructor(private readonly k: X86Kernel) {}

  get ncpus(): number { return this.k.machine.cpus.length; }
  atUser(cpu: number): boolean { return this.k.machine.cpus[cpu].CPL === 3; }
  tag(cpu: number): number { return this.k.machine.cpus[cpu].pcid; }

  roots(cpu: number) {
    const root = this.k.machine.cpus[cpu].root;
    return [{ pa: root, name: `CR3 (${this.frameName(root)})`, upper: false }];
  }

  /** One CR3 translates both halves. */
  reachable(root: number): readonly Reach[] { return reachable(this.k.machine, root); }

  cached(cpu: number): readonly Cached[] {
    const entries = this.k.machine.cpus[cpu].tlb.entries();
    let c = asCached.get(entries);
    if (!c) asCached.set(entries, (c = entries.map(cached)));
    return c;
  }

  /** Paging-structure caches are not modelled (model/arch/x86/tlb.ts). */
  cachedTables() { return []; }
  reachableBelow(): readonly Reach[] { return []; }
  label(pa: number): Label { return this.k.mem.label(pa); }
  frameName(pa: number): string { return this.k.mem.frame(pa)?.name ?? 'free'; }
  /** The mitigation's declared set, and the PEBS buffers while perf has them mapped in the cpu_entry_area (ds.ts). */
  userShared(): ReadonlySet<number> {
    const pebs = this.k.pebsBuffers;
    if (!this.shared || pebs.some((pa, i) => pa !== this.pebsSeen[i])) {
      this.shared = new Set([...this.k.mitigation.userShared(this.k.sym), ...pebs.filter((pa) => pa !== undefined)]);
      this.pebsSeen = [...pebs];
      this.sharedEpoch++;
    }
    return this.shared;
  }
  /**
   * What each live mm's user PGD maps at the LDT remap (PGD slot -3, ldt.ts).
   * The LDT frames are labelled as the process's own (`user(tgid)`): they
   * hold its own descriptors and only its own tables map them, so they stay
   * out of `userShared`, which every process may reach; the rule that
   * shared frames are never `kernel-secret` or `page-table` is checked here.
   */
  perMmShared(): readonly (Reach & { readonly where: string })[] {
    // Judged at every step: rebuilt only when a table store, a label or the set of live tasks may have changed it.
    const mem = this.k.mem, key = `${mem.version}:${mem.labels}:${this.k.tasks.filter((t) => t.alive).length}:${this.k.running.map((t) => t?.pid).join()}`;
    if (this.ldtRanges?.key !== key) this.ldtRanges = { key, ranges: this.ldtRemaps() };
    return this.ldtRanges.ranges;
  }
  private ldtRanges?: { key: string; ranges: readonly (Reach & { readonly where: string })[] };
  private ldtRemaps(): (Reach & { readonly where: string })[] {
    const index = pgdIndex(LDT_BASE_ADDR), off = this.k.mitigation.pti ? PTI_USER_PGD_OFFSET : 0, mms = new Set<Mm>();
    for (const t of this.k.tasks) if (t.alive) mms.add(t.mm);
    for (const t of this.k.running) if (t) mms.add(t.mm);
    return [...mms].flatMap((mm) => {
      const e = this.k.mem.readEntry(mm.pgd + off, index);
      if (!e || !isTable(e, 0)) return [];
      const where = `LDT remap in ${this.frameName(mm.pgd + off)}`;
      return leavesBelow(this.k.mem, e.addr, 1, pgdVa(index)).map((r) => ({ vaBase: r.vaBase, size: r.size, pa: r.pa, get text() { return r.text; }, where }));
    });
  }
  /** Both counters only grow, so their sum changes whenever either does. */
  labelEpoch(): number { this.userShared(); return this.k.mem.labels + this.sharedEpoch; }
  current(cpu: number) { return this.k.running[cpu]; }

  /** A walk of the mm's user page table (the user copy under PTI); x86 walks see every store at once, so both views agree. */
  ideal(mm: Mm, va: VA, write: boolean): Judged {
    const root = mm.pgd + (this.k.mitigation.pti ? PTI_USER_PGD_OFFSET : 0);
    return judge(walk((t, i) => this.k.mem.readEntry(t, i) ?? NOT_PRESENT, root, va), write);
  }

  tagsOf(mm: Mm, cpu: number): readonly MmTag[] {
    const ts = this.k.tlbstate[cpu], pcid = this.k.opts.pcid, pti = this.k.mitigation.pti, out: MmTag[] = [];
    if (!pcid) return ts.loaded_mm === mm ? [{ tag: 0, kind: 'PCID 0', flushPending: false }] : [];
    for (let asid = 0; asid < ts.ctxs.length; asid++) {
      const ctx = ts.ctxs[asid];
      if (ctx.ctx_id !== mm.ctxId) continue;
      const stale = ctx.tlb_gen < mm.tlbGen || (ts.invalidate_other && asid !== ts.loaded_mm_asid);
      out.push({ tag: kernPcid(asid), kind: 'kernel PCID', flushPending: stale });
      if (pti) out.push({ tag: userPcid(asid), kind: 'user PCID', flushPending: stale || ts.userFlushPending(asid) });
    }
    return out;
  }

  lookup(cpu: number, va: VA, tag: number): readonly Cached[] {
    return this.k.machine.cpus[cpu].tlb.lookup(va, tag).map(cached);
  }

  changes(cpu: number): readonly Change[] { return this.k.changes[cpu]; }
  inFlight(mm: Mm, va: VA): readonly UserPage[] { return this.k.inFlight(mm, va); }
}

/** User-mode rights on a walk result. */
function judge(w: X86WalkResult, write: boolean): Judged {
  if (w.kind === 'fault') return { fault: 'translation' };
  return w.perms.user && (!write || w.perms.write) ? { pa: w.pa } : { fault: 'permission' };
}
