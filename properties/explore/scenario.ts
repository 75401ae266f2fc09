// Small-scope scenarios (litmus tests for the architecture rules): a tiny
// initial state and a fixed list of ops per CPU. The explorer runs every
// interleaving of the ops with every hardware event in between and after
// (hardware.ts), and reports the reachable outcomes, in the
// manner of Casemate's good/bad fixture pairs (good_bbm.c vs bad_bbm_missing_tlbi.c).

import { tableDesc, type Descriptor, type LeafAttrs, type Page } from '../../model/arch/arm64/descriptor.ts';
import { Machine } from '../../model/arch/arm64/machine.ts';
import type { Op } from '../../model/arch/arm64/ops.ts';
import { SCTLR_M, ttbr } from '../../model/arch/arm64/sysreg.ts';
import { tableIndex } from '../../model/arch/arm64/walk.ts';
import { PhysMem } from '../../model/arch/phys.ts';
import type { VA } from '../../model/arch/va.ts';

export interface Scenario {
  readonly name: string;
  /** One line: what it shows. */
  readonly about: string;
  /** The initial machine (fresh each call). */
  init(): Machine;
  /** Ops per CPU, run in program order, interleaved in every way. */
  readonly cpus: readonly (readonly Op[])[];
  /** VAs to fill speculatively besides those the ops name (explore.ts). */
  readonly vas?: readonly VA[];
  /** Hardware events allowed per execution (explore.ts; default 1). */
  readonly budget?: number;
}

/** A little world: a user root (`root`), pages built by `set`, and the CPUs `machine` makes. */
export class World {
  readonly mem = new PhysMem<Descriptor>(0x4000_0000, 0x40_0000, (d) => d.kind === 'table');
  readonly root = this.mem.alloc('page-table', 'pgd', true);

  /** The pointer to `va`'s entry at `level` under `root`, creating tables above it. */
  entry(va: VA, level = 3, root = this.root): { table: number; index: number; level: number } {
    let t = root;
    for (let l = 0; l < level; l++) {
      const i = tableIndex(va, l);
      let d = this.mem.readEntry(t, i);
      if (!d) { d = tableDesc(this.mem.alloc('page-table', `L${l + 1}`, true)); this.mem.writeEntry(t, i, d, () => false); }
      if (d.kind !== 'table') throw new Error(`scenario: ${va.toString(16)} is not under a table at L${l}`);
      t = d.NLTA;
    }
    return { table: t, index: tableIndex(va, level), level };
  }

  /** Write `d` at `va`'s entry of `level` under `root` directly (initial state). */
  set(va: VA, d: Descriptor, level = 3, root = this.root): void {
    const p = this.entry(va, level, root);
    this.mem.writeEntry(p.table, p.index, d, (x) => x.kind === 'invalid');
  }

  /** A fresh frame. */
  frame(name: string): number { return this.mem.alloc('user(1)', name); }

  /** Another root table. */
  newRoot(name: string): number { return this.mem.alloc('page-table', name, true); }

  /**
   * One CPU per `ttbr0` value (default: two, on `root` with ASID 1), MMU on,
   * each running its TTBR0; `prefill` VAs are cached on every CPU.
   */
  machine(prefill: readonly VA[] = [], ttbr0: readonly bigint[] = [ttbr(this.root, 1), ttbr(this.root, 1)]): Machine {
    const m = new Machine(this.mem, ttbr0.length, { TTBR0_EL1: ttbr0[0], TTBR1_EL1: 0n, TCR_EL1: 0n, VBAR_EL1: 0n, SCTLR_EL1: SCTLR_M }, 8);
    for (const c of m.cpus) { c.pending.set('TTBR0_EL1', ttbr0[c.id]); c.synchronise(); }
    for (const c of m.cpus) for (const va of prefill) m.speculate(c, va);
    m.effects = [];
    return m;
  }
}

const ATTRS: LeafAttrs = { AttrIndx: 4, NS: false, AP: 1, SH: 3, AF: true, nG: true, Contiguous: false, PXN: true, UXN: true, POIndex: 0 };
/** A user RW page at `OA` (nG), with attribute overrides. */
export const page = (OA: number, over: Partial<LeafAttrs> = {}): Page => ({ kind: 'page', OA, ...ATTRS, ...over });
