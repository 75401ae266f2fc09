// Every leaf translation reachable by a walk from a CR3 root: what a
// speculative walker (or Meltdown) can reach while that root is live. One
// PML4 covers both halves: entry i maps VA i << 39, sign-extended for i >=
// 256 (the kernel half). x86 walks see stores at once (machine.ts), so this
// reads physical memory directly. Memoised per (root, mem.version), since
// the tables change far less often than the invariants run.

import type { PhysMem } from '../phys.ts';
import { describe, isLeaf, isTable, levelSize, type X86Pte } from './pte.ts';

/** A reachable leaf: VA range and the PA it maps to (model/view.ts `Reach`, plus the entry). */
export interface X86Reach {
  /** First VA the leaf maps (VA[48:0], upper half sign-extended). */
  readonly vaBase: number;
  /** Bytes it maps: 4 KiB, 2 MiB or 1 GiB. */
  readonly size: number;
  /** PA that `vaBase` maps to. */
  readonly pa: number;
  /** The leaf entry. */
  readonly leaf: X86Pte;
  /** Its level (1-3). */
  readonly level: number;
  /** The leaf as ptdump-like text (computed when asked). */
  readonly text: string;
}

/** Physical memory, or anything that has it (an `X86Machine`). */
export type MemSource = PhysMem<X86Pte> | { readonly mem: PhysMem<X86Pte> };
const memOf = (s: MemSource): PhysMem<X86Pte> => ('mem' in s ? s.mem : s);

/** VA of PML4 entry `index`: index << 39, with VA[48] set for the upper half (index >= 256). */
export const pgdVa = (index: number): number => index * levelSize(0) + (index >= 256 ? 2 ** 48 : 0);

const memo = new WeakMap<PhysMem<X86Pte>, { version: number; byRoot: Map<number, X86Reach[]> }>();

/** Leaves reachable from the PML4 at `root`, both halves, in VA order. */
export function reachable(src: MemSource, root: number): X86Reach[] {
  const mem = memOf(src);
  let c = memo.get(mem);
  if (!c || c.version !== mem.version) memo.set(mem, (c = { version: mem.version, byRoot: new Map() }));
  let r = c.byRoot.get(root);
  if (!r) c.byRoot.set(root, (r = collect(mem, root, 0, 0, [])));
  return r;
}

/** Leaves below the level-`level` table at `table`, which maps from `vaBase` (one PGD entry's subtree, say). */
export const leavesBelow = (src: MemSource, table: number, level: number, vaBase: number): X86Reach[] => collect(memOf(src), table, level, vaBase, []);

function collect(mem: PhysMem<X86Pte>, table: number, level: number, vaBase: number, out: X86Reach[]): X86Reach[] {
  const entries = [...(mem.frames.get(table)?.table ?? [])].sort((a, b) => a[0] - b[0]);
  for (const [index, e] of entries) {
    const va = level === 0 ? pgdVa(index) : vaBase + index * levelSize(level);
    if (isTable(e, level)) collect(mem, e.addr, level + 1, va, out);
    else if (isLeaf(e, level)) {
      const size = levelSize(level);
      out.push({ vaBase: va, size, pa: e.addr - (e.addr % size), leaf: e, level, get text() { return describe(e, level); } });
    }
  }
  return out;
}
