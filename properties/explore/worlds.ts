// The small worlds the fixture pairs run in (fixtures.ts). Each builder is
// deterministic, so the table addresses the ops name are the same in every
// fresh machine `init()` makes.

import { INVALID, tableDesc, type Block, type Descriptor } from '../../model/arch/arm64/descriptor.ts';
import { dsb, str, tlbi, type Op, type TlbiType } from '../../model/arch/arm64/ops.ts';
import { ttbr } from '../../model/arch/arm64/sysreg.ts';
import { va, type VA } from '../../model/arch/va.ts';
import { page, World, type Scenario } from './scenario.ts';

/** The VA every fixture is about (L2 index 2, L3 index 0). */
export const X = va('0x400000');
/** A pointer to one table entry. */
export type Ptr = { table: number; index: number; level: number };
export const st = (p: Ptr, d: Descriptor): Op => str(p.table, p.index, p.level, d);
export const load = (cpu: number): Op => ({ op: 'access', kind: 'ldr', va: X, sym: `X@cpu${cpu}` });
/** A 2 MiB block at `OA`, with the fixtures' page attributes. */
export const block = (OA: number, over = {}): Block => ({ ...page(OA, over), kind: 'block' });

interface Shape { readonly cpus: Op[][]; readonly prefill?: readonly VA[]; readonly ttbr0?: readonly bigint[]; readonly vas?: readonly VA[]; readonly budget?: number }

/** A scenario from a deterministic builder; X is cached on both CPUs unless `prefill` says otherwise. */
export function scenario(name: string, about: string, build: (w: World) => Shape): Scenario {
  const shape = build(new World());
  return { name, about, cpus: shape.cpus, vas: shape.vas, budget: shape.budget, init: () => { const w = new World(); const s = build(w); return w.machine(s.prefill ?? [X], s.ttbr0); } };
}

/** X maps frame A with `attrs`; CPU 0 runs `ops(ptr to X's page entry, frames)`; CPU 1 reads X. */
export function onPage(name: string, about: string, ops: (p: Ptr, f: { a: number; b: number }) => Op[], attrs = {}): Scenario {
  return scenario(name, about, (w) => {
    const a = w.frame('A'), b = w.frame('B');
    w.set(X, page(a, attrs));
    return { cpus: [ops(w.entry(X), { a, b }), [load(1)]] };
  });
}

/** X lies in a 2 MiB block; CPU 0 runs `ops(ptr to the L2 entry)`; CPU 1 reads X. */
export function onBlock(name: string, about: string, ops: (p: Ptr) => Op[]): Scenario {
  return scenario(name, about, (w) => {
    w.set(X, block(0x4020_0000), 2);
    return { cpus: [ops(w.entry(X, 2)), [load(1)]] };
  });
}

/**
 * X's L3 table is replaced by another one (mapping B) with break-before-make
 * on the L2 table entry, invalidating with `inval`. CPU `c` runs ASID
 * `asids[c]` over the same tables; CPU 1 reads X.
 */
export function tableSwap(name: string, about: string, inval: Op, asids: readonly [number, number] = [1, 1]): Scenario {
  return scenario(name, about, (w) => {
    const a = w.frame('A'), b = w.frame('B');
    w.set(X, page(a));
    const t2 = w.mem.alloc('page-table', 'L3 (new)', true);
    w.mem.writeEntry(t2, 0, page(b), () => false);
    const l2 = w.entry(X, 2);
    return {
      cpus: [[st(l2, INVALID), dsb('ishst'), inval, dsb('ish'), st(l2, tableDesc(t2)), dsb('ishst')], [load(1)]],
      ttbr0: asids.map((asid) => ttbr(w.root, asid)),
    };
  });
}

export const tlbiX = (type: TlbiType, is = true, asid = 1): Op => tlbi(type, is, { va: X, asid });
