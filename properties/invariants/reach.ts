// Every leaf translation reachable by a walk from a root: what a speculative
// walker (or Meltdown) can reach with that root live. Memoised per
// (root, memory version), since the tables change far less often than the
// invariants are checked.

import { INVALID, levelSize, type Descriptor, type Leaf } from '../../model/arch/arm64/descriptor.ts';
import type { PhysMem } from '../../model/arch/phys.ts';

/** A reachable leaf: VA range and the PA it maps to. */
export interface Reach {
  readonly vaBase: number;
  readonly size: number;
  readonly pa: number;
  readonly leaf: Leaf;
  readonly level: number;
}

const memo = new WeakMap<PhysMem<Descriptor>, { version: number; byRoot: Map<number, Reach[]> }>();

/** Leaves reachable from `root` used as TTBR1 (`upper`, VA[63:48] all ones) or TTBR0. */
export function reachable(mem: PhysMem<Descriptor>, root: number, upper: boolean): Reach[] {
  let m = memo.get(mem);
  if (!m || m.version !== mem.version) memo.set(mem, (m = { version: mem.version, byRoot: new Map() }));
  const key = root * 2 + (upper ? 1 : 0);
  let r = m.byRoot.get(key);
  if (!r) m.byRoot.set(key, (r = collect(mem, root, 0, upper ? 2 ** 48 : 0, [])));
  return r;
}

function collect(mem: PhysMem<Descriptor>, table: number, level: number, vaBase: number, out: Reach[]): Reach[] {
  const entries = mem.frames.get(table)?.table;
  if (!entries) return out;
  for (const [index, d] of entries) {
    const va = vaBase + index * levelSize(level);
    if (d.kind === 'table') { if (level < 3) collect(mem, d.NLTA, level + 1, va, out); }
    else if (d !== INVALID && d.kind !== 'invalid') out.push({ vaBase: va, size: levelSize(level), pa: d.OA, leaf: d, level });
  }
  return out;
}
