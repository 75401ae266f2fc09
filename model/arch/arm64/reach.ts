// Every leaf translation reachable by a walk from a root: what a speculative
// walker (or Meltdown) can reach with that root live, over the tables as the
// walker sees them (stores not yet visible excluded). Memoised per (root,
// version), since the tables change far less often than the invariants run.

import { describe, levelSize, type Leaf } from './descriptor.ts';
import type { Machine } from './machine.ts';
import { atLevel } from './walk.ts';
import { decodeTtbr } from './sysreg.ts';

/** A reachable leaf: VA range and the PA it maps to. */
export interface Reach {
  readonly vaBase: number;
  readonly size: number;
  readonly pa: number;
  readonly leaf: Leaf;
  readonly level: number;
  /** The leaf as ptdump-like text (computed when asked). */
  readonly text: string;
}

const memo = new WeakMap<Machine, { version: string; byRoot: Map<number, Reach[]> }>();

/** Leaves reachable from `root` used as TTBR1 (`upper`, VA[63:48] all ones) or TTBR0. */
export function reachable(m: Machine, root: number, upper: boolean): Reach[] {
  const version = `${m.mem.version}:${m.stores.version}`;
  let c = memo.get(m);
  if (!c || c.version !== version) memo.set(m, (c = { version, byRoot: new Map() }));
  const key = root * 2 + (upper ? 1 : 0);
  let r = c.byRoot.get(key);
  if (!r) c.byRoot.set(key, (r = collect(m, root, 0, upper ? 2 ** 48 : 0, [])));
  return r;
}

/** Leaves reachable from `table` at `level` (a walk cache's next table), for VAs from `vaBase`. */
export function reachableBelow(m: Machine, table: number, level: number, vaBase: number): Reach[] {
  return collect(m, table, level, vaBase, []);
}

function collect(m: Machine, table: number, level: number, vaBase: number, out: Reach[]): Reach[] {
  for (const [index, raw] of m.stores.entries(table)) {
    const d = atLevel(raw, level);
    const va = vaBase + index * levelSize(level);
    if (d.kind === 'table') { if (level < 3) collect(m, d.NLTA, level + 1, va, out); }
    else if (d.kind !== 'invalid') out.push({ vaBase: va, size: levelSize(level), pa: d.OA, leaf: d, level, get text() { return describe(d); } });
  }
  return out;
}

const tableMemo = new WeakMap<Machine, { version: string; tables: Set<number> }>();

/**
 * Tables a walk can reach now: the descriptors in them are live. Walks
 * start from each CPU's TTBR0 and TTBR1, from a TTBR write not yet
 * synchronised (it may take effect at any moment, Arm ARM D24.1), and from
 * every table a walk-cache entry points at (a walk resumes there whatever
 * the TTBRs now say, walkcache.ts).
 */
export function liveTables(m: Machine): Set<number> {
  const starts: number[] = []; // table * 4 + level (tables are 4 KiB aligned)
  for (const cpu of m.cpus) {
    starts.push(cpu.params.ttbr0.BADDR * 4, cpu.params.ttbr1.BADDR * 4);
    for (const reg of ['TTBR0_EL1', 'TTBR1_EL1'] as const) {
      const v = cpu.pending.get(reg);
      if (v !== undefined) starts.push(decodeTtbr(v).BADDR * 4);
    }
    for (const w of cpu.walkCache.entries()) starts.push(w.next * 4 + w.level + 1);
  }
  const version = `${m.mem.shape}:${m.stores.version}:${starts.join(',')}`;
  const c = tableMemo.get(m);
  if (c && c.version === version) return c.tables;
  const tables = new Set<number>();
  const visit = (t: number, level: number): void => {
    if (tables.has(t) || !m.mem.frames.get(t)?.table) return;
    tables.add(t);
    if (level < 3) for (const [, raw] of m.stores.entries(t)) { const d = atLevel(raw, level); if (d.kind === 'table') visit(d.NLTA, level + 1); }
  };
  for (const s of starts) visit(Math.floor(s / 4), s % 4);
  tableMemo.set(m, { version, tables });
  return tables;
}

/** Every table reachable from `root` (software view), with its level and the first VA it covers (lower-half numbering). */
const fromMemo = new WeakMap<Machine, { shape: number; byRoot: Map<number, Map<number, { level: number; vaBase: number }>> }>();

export function tablesFrom(m: Machine, root: number): Map<number, { level: number; vaBase: number }> {
  let c = fromMemo.get(m);
  if (!c || c.shape !== m.mem.shape) fromMemo.set(m, (c = { shape: m.mem.shape, byRoot: new Map() }));
  let out = c.byRoot.get(root);
  if (!out) c.byRoot.set(root, (out = collectTables(m, root)));
  return out;
}

function collectTables(m: Machine, root: number): Map<number, { level: number; vaBase: number }> {
  const out = new Map<number, { level: number; vaBase: number }>();
  const visit = (t: number, level: number, vaBase: number): void => {
    if (out.has(t)) return;
    const entries = m.mem.frames.get(t)?.table;
    if (!entries) return;
    out.set(t, { level, vaBase });
    if (level < 3) for (const [i, raw] of entries) { const d = atLevel(raw, level); if (d.kind === 'table') visit(d.NLTA, level + 1, vaBase + i * levelSize(level)); }
  };
  visit(root, 0, 0);
  return out;
}
