// Page-table stores and the table walker. Arm ARM D8.17.1 (R_DDMVT steps 2
// and 6: "Execute a DSB instruction to ensure the ... entry is visible"): a
// store to a translation table is only guaranteed to be seen by walks once
// the storing PE has executed a DSB. Until then a walk may see the old value;
// the workload chooses when a pending store becomes visible early (`drain`).
// Software loads see every store at once (the kernel reads its tables in
// program order, under its locks).
// Simplifications: any DSB (including ST and NSH forms) makes the PE's stores
// visible to every walker; the ISB a PE needs before its own later fetches
// use the new entry is not modelled (no pipeline); data caches are not
// modelled, so the DC CVAC/CIVAC that MMU-off code needs are no-ops.

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
}

export class StoreBuffer {
  private pending: Pending[] = [];
  /** Bumped whenever what walkers see changes. */
  version = 0;

  constructor(private readonly mem: PhysMem<Descriptor>) {}

  /** A copy over `mem` (a clone of this buffer's memory). */
  clone(mem: PhysMem<Descriptor>): StoreBuffer {
    const s = new StoreBuffer(mem);
    s.pending = [...this.pending];
    s.version = this.version;
    return s;
  }

  /** A store by `cpu`: software sees it now, walkers once it is visible. */
  store(cpu: number, table: number, index: number, desc: Descriptor): void {
    const old = this.mem.readEntry(table, index) ?? INVALID;
    this.mem.writeEntry(table, index, desc, (d) => d.kind === 'invalid');
    this.pending.push({ cpu, table, index, old, epoch: this.mem.frame(table)!.epoch });
  }

  /** Pending stores that still concern a live table (not a frame freed and reused since). */
  private live(p: Pending): boolean { return this.mem.frames.get(p.table)?.epoch === p.epoch && !!this.mem.frames.get(p.table)?.table; }

  /** What a walker reads: the value before the oldest store to this entry that is not yet visible. */
  read = (table: number, index: number): Descriptor => {
    if (this.pending.length) for (const p of this.pending) if (p.table === table && p.index === index && this.live(p)) return p.old;
    return this.mem.readEntry(table, index) ?? INVALID;
  };

  /** The entries of `table` as walkers see them. */
  entries(table: number): Iterable<[number, Descriptor]> {
    const t = this.mem.frames.get(table)?.table;
    if (!t) return [];
    const mine = this.pending.filter((p) => p.table === table && this.live(p));
    if (!mine.length) return t;
    const view = new Map(t);
    for (const p of [...mine].reverse()) { if (p.old.kind === 'invalid') view.delete(p.index); else view.set(p.index, p.old); }
    return view;
  }

  /** `dsb` by `cpu`: its stores become visible. */
  complete(cpu: number): void {
    const before = this.pending.length;
    this.pending = this.pending.filter((p) => p.cpu !== cpu);
    if (this.pending.length !== before) this.version++;
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
}
