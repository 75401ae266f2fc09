// EL0 isolation (DESIGN.md): on a CPU at EL0, no translation reachable in its
// current context targets a frame that is not the current task's or in the
// declared user-shared set. Reachable: by a walk from the live TTBRs, or by a
// TLB entry tagged with the current ASID or global. Permissions are ignored,
// as Meltdown ignores them. The user-shared set may never hold
// `kernel-secret` or `page-table` frames.

import { FRAME, type Label } from '../../model/arch/phys.ts';
import { vaHex } from '../../model/arch/va.ts';
import { describe } from '../../model/arch/arm64/descriptor.ts';
import { entrySize } from '../../model/arch/arm64/tlb.ts';
import type { Arm64Kernel } from '../../model/kernel/arm64/kernel.ts';
import { reachable, reachableBelow } from './reach.ts';
import { violation, type Invariant, type Violation } from './types.ts';

/** Worse labels first: the witness names the most damaging frame in a range. */
const SEVERITY: readonly string[] = ['kernel-secret', 'page-table', 'kernel-data', 'kernel-text', 'trampoline', 'entry-area', 'user', 'guest', 'free'];
const rank = (l: Label): number => SEVERITY.indexOf(l.replace(/\(\d+\)$/, ''));

/** The most damaging frame in [pa, pa+size) that `ok` rejects (frames never claimed are `free`). */
function forbidden(k: Arm64Kernel, pa: number, size: number, ok: (pa: number, l: Label) => boolean): { pa: number; label: Label } | undefined {
  let worst: { pa: number; label: Label } | undefined;
  const consider = (a: number, label: Label) => {
    if (!ok(a, label) && (!worst || rank(label) < rank(worst.label))) worst = { pa: a, label };
  };
  const claimed = k.machine.mem.labelled(pa, size);
  for (const [a, f] of claimed) consider(a, f.label);
  if (claimed.length < size / FRAME) {
    // Some frame in the range was never claimed: find the first one.
    let a = pa;
    for (const [b] of claimed) { if (b !== a) break; a += FRAME; }
    consider(a, 'free');
  }
  return worst;
}

function checkCpu(k: Arm64Kernel, c: number, shared: Set<number>): Violation | undefined {
  const cpu = k.machine.cpus[c], task = k.running[c];
  if (cpu.EL !== 0) return undefined;
  const mine = task ? `user(${task.tgid})` : undefined;
  const ok = (pa: number, l: Label) => l === mine || shared.has(pa);
  const p = cpu.params;
  for (const [name, t, upper] of [['TTBR0_EL1', p.ttbr0, false], ['TTBR1_EL1', p.ttbr1, true]] as const) {
    for (const r of reachable(k.machine, t.BADDR, upper)) {
      const bad = forbidden(k, r.pa, r.size, ok);
      if (bad) return violation('el0-isolation', 'EL0 reaches a frame by walk', {
        cpu: c, via: `walk from ${name} (${k.machine.mem.frame(t.BADDR)?.name ?? 'unknown'})`, va: vaHex(r.vaBase + (bad.pa - r.pa)),
        pa: `0x${bad.pa.toString(16)}`, label: bad.label, frame: k.machine.mem.frame(bad.pa)?.name ?? 'free', descriptor: describe(r.leaf),
      });
    }
  }
  // A walk-cache entry under the current ASID lets a walk continue from its table, whatever the TTBRs say now.
  for (const w of cpu.walkCache.all()) {
    if (w.asid !== p.asid) continue;
    for (const r of reachableBelow(k.machine, w.next, w.level + 1, w.vaBase)) {
      const bad = forbidden(k, r.pa, r.size, ok);
      if (bad) return violation('el0-isolation', 'EL0 reaches a frame through the walk cache', {
        cpu: c, via: `walk-cache entry L${w.level} asid=${w.asid} from ${w.owner}`, va: vaHex(r.vaBase + (bad.pa - r.pa)),
        pa: `0x${bad.pa.toString(16)}`, label: bad.label, frame: k.machine.mem.frame(bad.pa)?.name ?? 'free', descriptor: describe(r.leaf),
      });
    }
  }
  for (const e of cpu.tlb.entries()) {
    if (e.asid !== undefined && e.asid !== p.asid) continue;
    const bad = forbidden(k, e.oa, entrySize(e), ok);
    if (bad) return violation('el0-isolation', 'EL0 reaches a frame through the TLB', {
      cpu: c, via: `TLB entry ${e.asid === undefined ? 'global' : `asid=${e.asid}`} from ${e.owner}`, va: vaHex(e.vaBase + (bad.pa - e.oa)),
      pa: `0x${bad.pa.toString(16)}`, label: bad.label, frame: k.machine.mem.frame(bad.pa)?.name ?? 'free', descriptor: describe(e.leaf),
    });
  }
  return undefined;
}

export const el0Isolation: Invariant = {
  id: 'el0-isolation',
  initial(k) {
    for (const pa of k.mitigation.userShared(k.sym)) {
      const label = k.machine.mem.label(pa);
      if (label === 'kernel-secret' || label === 'page-table') {
        return violation('el0-isolation', 'user-shared set holds a forbidden frame', { pa: `0x${pa.toString(16)}`, label });
      }
    }
    return undefined;
  },
  check(k) {
    const shared = new Set(k.mitigation.userShared(k.sym));
    for (let c = 0; c < k.machine.cpus.length; c++) {
      const v = checkCpu(k, c, shared);
      if (v) return v;
    }
    return undefined;
  },
};
