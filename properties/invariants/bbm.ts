// Break-before-make (Arm ARM D8.17.1, R_WHZWS and the sequence R_DDMVT): a
// valid-to-valid change of a live descriptor that changes the output
// address, memory type or shareability, the block size (or table versus
// block), or nG 1 -> 0, must go through invalid, DSB, broadcast TLBI, DSB.
// Global -> nG is allowed, as in arch/arm64/mm/mmu.c `pgattr_change_is_safe`
// (pgattr.ts; the kernel forbids more, pgattr.test.ts lists what).
// Checked at each store of a valid descriptor against what the entry held
// before (if still live: reachable by a walk from some CPU's TTBRs, a
// pending TTBR write or a walk-cache entry, reach.ts `liveTables`) and
// against every TLB or walk-cache entry on any CPU derived from that entry
// (an invalidation not yet completed by TLBI and DSB leaves those behind).

import { describe, levelSize, type Descriptor } from '../../model/arch/arm64/descriptor.ts';
import { bbmReason, MAIR_LINUX_4X, type Mair } from '../../model/arch/arm64/bbm.ts';
import type { Effect, Machine } from '../../model/arch/arm64/machine.ts';
import { liveTables } from '../../model/arch/arm64/reach.ts';
import { arm64Effects, violation, type Invariant, type Violation } from './types.ts';

type Store = Extract<Effect, { kind: 'store' }>;

/** Why replacing `old` by `next` at one entry of `level` needs break-before-make, or undefined. */
export function descriptorBbm(old: Descriptor, next: Descriptor, level: number, mair: Mair = MAIR_LINUX_4X): string | undefined {
  if (old.kind === 'invalid' || next.kind === 'invalid') return undefined;
  if (old.kind === 'table' || next.kind === 'table') {
    if (old.kind !== next.kind) return 'table versus block change';
    return old.kind === 'table' && next.kind === 'table' && old.NLTA !== next.NLTA ? 'next-level table address change' : undefined;
  }
  const size = levelSize(level);
  return bbmReason({ leaf: old, size, pa: old.OA }, { leaf: next, size, pa: next.OA }, mair);
}

/** The BBM verdict on one store, given the machine right after it. */
export function bbmViolation(m: Machine, s: Store): Violation | undefined {
  if (s.desc.kind === 'invalid') return undefined;
  const at = `${m.mem.frame(s.table)?.name ?? s.table.toString(16)}[${s.index}] (L${s.level})`;
  const report = (old: Descriptor, reason: string, live: string) => violation('bbm', 'valid-to-valid change of a live descriptor without break-before-make', {
    cpu: s.cpu, entry: at, old: describe(old), new: describe(s.desc), reason, live,
  });
  const direct = descriptorBbm(s.old, s.desc, s.level);
  if (direct && liveTables(m).has(s.table)) return report(s.old, direct, 'reachable from a live root (a TTBR, a pending TTBR write or a walk-cache entry)');
  // Entries cached from an earlier life of this table frame (freed and reused) translate another table.
  const epoch = m.mem.frame(s.table)?.epoch;
  const derived = (f: { table: number; index: number; epoch?: number }) => f.table === s.table && f.index === s.index && f.epoch === epoch;
  for (const cpu of m.cpus) {
    for (const e of cpu.tlb.entries()) {
      if (!derived(e.from)) continue;
      const r = descriptorBbm(e.leaf, s.desc, s.level);
      if (r) return report(e.leaf, r, `cached in cpu${cpu.id}'s TLB (asid ${e.asid ?? 'global'})`);
    }
    for (const w of cpu.walkCache.entries()) {
      if (!derived(w.from)) continue;
      const old: Descriptor = { kind: 'table', NLTA: w.next, PXNTable: false, UXNTable: false, APTable: 0, NSTable: false };
      const r = descriptorBbm(old, s.desc, s.level);
      if (r) return report(old, r, `cached in cpu${cpu.id}'s walk cache (asid ${w.asid})`);
    }
  }
  return undefined;
}

export const bbm: Invariant = {
  id: 'bbm',
  check(k, step) {
    if (k.arch !== 'arm64') return undefined;
    for (const e of arm64Effects(step)) {
      if (e.kind !== 'store') continue;
      const v = bbmViolation(k.machine, e);
      if (v) return v;
    }
    return undefined;
  },
};
