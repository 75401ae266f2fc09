// Small-scope scenarios (litmus tests for the architecture rules): a tiny
// initial state, a fixed list of ops per CPU, and the hardware choices that
// may happen in between. The explorer runs every interleaving of the ops
// with every allowed choice, and reports the reachable outcomes, in the
// manner of Casemate's good/bad fixture pairs (good_bbm.c vs bad_bbm_missing_tlbi.c).

import { tableDesc, type Descriptor, type LeafAttrs, type Page } from '../../model/arch/arm64/descriptor.ts';
import { Machine } from '../../model/arch/arm64/machine.ts';
import type { Op } from '../../model/arch/arm64/ops.ts';
import { SCTLR_M, ttbr } from '../../model/arch/arm64/sysreg.ts';
import { tableIndex } from '../../model/arch/arm64/walk.ts';
import { PhysMem } from '../../model/arch/phys.ts';
import type { VA } from '../../model/arch/va.ts';

/** The hardware choices the explorer may insert between ops. */
export type Choice =
  | { readonly k: 'fill'; readonly cpu: number; readonly va: VA }
  | { readonly k: 'land'; readonly cpu: number }
  | { readonly k: 'drain'; readonly cpu: number }
  | { readonly k: 'sync'; readonly cpu: number };

export interface Scenario {
  readonly name: string;
  /** One line: what it shows. */
  readonly about: string;
  /** The initial machine (fresh each call). */
  init(): Machine;
  /** Ops per CPU, run in program order, interleaved in every way. */
  readonly cpus: readonly (readonly Op[])[];
  /** Hardware choices, each usable at most once per execution. */
  readonly choices: readonly Choice[];
}

/** A little world: 2 CPUs, one user root with ASID 1, pages built by `map`. */
export class World {
  readonly mem = new PhysMem<Descriptor>(0x4000_0000, 0x40_0000, (d) => d.kind === 'table');
  readonly root = this.mem.alloc('page-table', 'pgd', true);

  /** The pointer to `va`'s entry at `level`, creating tables above it. */
  entry(va: VA, level = 3): { table: number; index: number; level: number } {
    let t = this.root;
    for (let l = 0; l < level; l++) {
      const i = tableIndex(va, l);
      let d = this.mem.readEntry(t, i);
      if (!d) { d = tableDesc(this.mem.alloc('page-table', `L${l + 1}`, true)); this.mem.writeEntry(t, i, d, () => false); }
      if (d.kind !== 'table') throw new Error(`scenario: ${va.toString(16)} is not under a table at L${l}`);
      t = d.NLTA;
    }
    return { table: t, index: tableIndex(va, level), level };
  }

  /** Write `d` at `va`'s entry of `level` directly (initial state). */
  set(va: VA, d: Descriptor, level = 3): void {
    const p = this.entry(va, level);
    this.mem.writeEntry(p.table, p.index, d, (x) => x.kind === 'invalid');
  }

  /** A fresh frame. */
  frame(name: string): number { return this.mem.alloc('user(1)', name); }

  /** Two CPUs running the root with ASID 1 and the MMU on; `prefill` VAs are cached on every CPU. */
  machine(prefill: readonly VA[] = []): Machine {
    const m = new Machine(this.mem, 2, { TTBR0_EL1: ttbr(this.root, 1), TTBR1_EL1: 0n, TCR_EL1: 0n, VBAR_EL1: 0n, SCTLR_EL1: SCTLR_M }, 8);
    for (const c of m.cpus) for (const va of prefill) m.speculate(c, va);
    m.effects = [];
    return m;
  }
}

const ATTRS: LeafAttrs = { AttrIndx: 4, NS: false, AP: 1, SH: 3, AF: true, nG: true, Contiguous: false, PXN: true, UXN: true, POIndex: 0 };
/** A user RW page at `OA` (nG), with attribute overrides. */
export const page = (OA: number, over: Partial<LeafAttrs> = {}): Page => ({ kind: 'page', OA, ...ATTRS, ...over });
