// Page-table stores and the table walker. Arm ARM D8.17.1 (R_DDMVT steps 2
// and 6: "Execute a DSB instruction to ensure the ... entry is visible"): a
// store to a translation table is only guaranteed to be seen by walks once
// the storing PE has executed a DSB, and only by the walkers of the PEs in
// that DSB's shareability domain (Arm ARM B2, "Data Synchronization
// Barrier": the DSB completes the accesses for the observers in its domain):
// `dsb nsh`/`nshst` publishes to the storing PE's own walker, `dsb
// ish`/`ishst`/`sy` to every PE's. Linux relies on the difference: the 2022
// rewrite's fixmap slot uses `dsb nshst`, the rewritten swapper entries get
// `dsb ishst` "to ensure all the updated entries are visible to secondary
// CPUs" (arch/arm64/mm/proc.S idmap_kpti_install_ng_mappings). Until then a
// walk may see the old value; the workload chooses when a pending store
// becomes visible to every walker early (`drain`). Software loads see every
// store at once (the kernel reads its tables in program order, under its
// locks).
// Simplifications: the ISB a PE needs before its own later translations are
// guaranteed to use an entry (a walk for a later instruction may have been
// done early) is not modelled: the model walks at each op, in program order
// (Linux's kpti_map_pgtbl itself has no ISB after its final `str; dsb nshst`);
// data caches are not modelled, so the DC CVAC/CIVAC that MMU-off code needs
// are no-ops.

import type { PhysMem } from '../phys.ts';
import { INVALID, type Descriptor } from './descriptor.ts';

interface Pending {
  readonly cpu: number;
  readonly table: number;
  readonly index: number;
  /** The value walkers see until this store is visible. */
  readonly old: Descriptor;
  /** The table frame's allocation epoch: once the frame is freed and reused, the store no longer matters. */
  readonly epoch: number;
  /** Visible to the storing PE's own walker (after its `dsb nsh`), not yet to the others'. */
  own: boolean;
}

export class StoreBuffer {
  private pending: Pending[] = [];
  /** Bumped whenever what walkers see changes. */
  version = 0;

  constructor(private readonly mem: PhysMem<Descriptor>) {}

  /** A copy over `mem` (a clone of this buffer's memory). */
  clone(mem: PhysMem<Descriptor>): StoreBuffer {
    const s = new StoreBuffer(mem);
    s.pending = this.pending.map((p) => ({ ...p }));
    s.version = this.version;
    return s;
  }

  /** A store by `cpu`: software sees it now, walkers once it is visible. */
  store(cpu: number, table: number, index: number, desc: Descriptor): void {
    const old = this.mem.readEntry(table, index) ?? INVALID;
    this.mem.writeEntry(table, index, desc, (d) => d.kind === 'invalid');
    this.pending.push({ cpu, table, index, old, epoch: this.mem.frame(table)!.epoch, own: false });
  }

  /** Pending stores that still concern a live table (not a frame freed and reused since). */
  private live(p: Pending): boolean { return this.mem.frames.get(p.table)?.epoch === p.epoch && !!this.mem.frames.get(p.table)?.table; }

  /** Is `p` hidden from `walker`'s PE (every PE's, when no walker is named)? */
  private hidden(p: Pending, walker?: number): boolean { return !(p.own && p.cpu === walker) && this.live(p); }

  /**
   * What the walker of PE `walker` reads: the value before the oldest store
   * to this entry not yet visible to it. With no walker named, what every
   * walker is guaranteed to see (a store published only to its own PE's
   * walker counts as not yet visible).
   */
  read = (table: number, index: number, walker?: number): Descriptor => {
    if (this.pending.length) for (const p of this.pending) if (p.table === table && p.index === index && this.hidden(p, walker)) return p.old;
    return this.mem.readEntry(table, index) ?? INVALID;
  };

  /** The entries of `table` as walkers see them. */
  entries(table: number): Iterable<[number, Descriptor]> {
    const t = this.mem.frames.get(table)?.table;
    if (!t) return [];
    const mine = this.pending.filter((p) => p.table === table && this.hidden(p));
    if (!mine.length) return t;
    const view = new Map(t);
    for (const p of [...mine].reverse()) { if (p.old.kind === 'invalid') view.delete(p.index); else view.set(p.index, p.old); }
    return view;
  }

  /** `dsb` by `cpu`: its stores become visible to its own walker (`nsh`) or to every walker (`ish`, `sy`). */
  complete(cpu: number, domain: 'nsh' | 'ish'): void {
    const mine = this.pending.filter((p) => p.cpu === cpu);
    if (!mine.length) return;
    if (domain === 'ish') this.pending = this.pending.filter((p) => p.cpu !== cpu);
    else for (const p of mine) p.own = true;
    this.version++;
  }

  /** The hardware making `cpu`'s oldest pending store visible early. */
  drainOne(cpu: number): boolean {
    const i = this.pending.findIndex((p) => p.cpu === cpu);
    if (i < 0) return false;
    this.pending.splice(i, 1);
    this.version++;
    return true;
  }

  get size(): number { return this.pending.length; }

  /** The pending stores as plain text, for telling machine states apart (properties/explore/state.ts). */
  key(): string { return JSON.stringify(this.pending); }
}
