// Functional (DESIGN.md): user accesses see what an ideal machine with no
// TLB would see (a walk of the current task's own tables), and the kernel
// never faults on its own mapping after entry. A mitigation that hides
// everything by breaking the kernel fails here. Every translation the
// hardware may have used (each hitting TLB entry) is judged. And each CPU
// leaves the boot-time nG rewrite with swapper_pg_dir back in TTBR1 and the
// ID map gone from TTBR0 (the kernel's `resumed` hint).

import { isUpper, vaHex } from '../../model/arch/va.ts';
import { INVALID } from '../../model/arch/arm64/descriptor.ts';
import type { Effect, Outcome } from '../../model/arch/arm64/machine.ts';
import { walkFrom, type WalkResult } from '../../model/arch/arm64/walk.ts';
import type { Arm64Kernel } from '../../model/kernel/arm64/kernel.ts';
import { violation, type Invariant, type Violation } from './types.ts';

type Access = Extract<Effect, { kind: 'access' }>;

const show = (o: { pa?: number; fault?: string }): string => (o.fault ? `${o.fault} fault` : `0x${o.pa!.toString(16)}`);

type Result = { pa?: number; fault?: string };

/**
 * The ideal machine: the current task's tables, no TLB, EL0 permissions.
 * Also allowed: the same walk over what the table walker sees now (a store
 * not yet visible gives a spurious fault, which Linux's fault handler
 * retries), and, while a syscall on some CPU is changing this VA, the old
 * page (a user access racing munmap may see either).
 */
function ideal(k: Arm64Kernel, a: Access): Result[] {
  const task = k.running[a.cpu];
  if (!task) return [{ fault: 'translation' }];
  const write = a.access === 'store' || a.access === 'sttr';
  const judge = (w: WalkResult): Result => (w.kind === 'fault' ? { fault: 'translation' } : w.perms.el0 && (!write || w.perms.write) ? { pa: w.pa } : { fault: 'permission' });
  const now = judge(walkFrom((t, i) => k.machine.mem.readEntry(t, i) ?? INVALID, task.mm.pgd, a.va));
  const seen = judge(walkFrom(k.machine.readDesc, task.mm.pgd, a.va));
  const old = k.inFlight(task.mm, a.va).map((p): Result => (!write || p.prot === 'rw' ? { pa: p.pa } : { fault: 'permission' }));
  return [now, seen, ...old];
}

const agrees = (o: Outcome, want: Result): boolean => (want.fault ? o.fault !== undefined : o.fault === undefined && o.pa === want.pa);

function userAccess(k: Arm64Kernel, a: Access): Violation | undefined {
  const allowed = ideal(k, a);
  const want = allowed[0];
  const bad = a.outcomes.find((o: Outcome) => !allowed.some((r) => agrees(o, r)));
  if (!bad) return undefined;
  return violation('functional', 'user access differs from the ideal machine', {
    cpu: a.cpu, access: a.access, va: vaHex(a.va), got: show(bad), ideal: show(want),
    via: bad.entry ? `TLB entry asid=${bad.entry.asid ?? 'global'} from ${bad.entry.owner}` : 'walk',
  });
}

function kernelAccess(a: Access): Violation | undefined {
  const bad = a.outcomes.find((o) => o.fault);
  if (!bad) return undefined;
  return violation('functional', 'kernel faults on its own mapping', { cpu: a.cpu, access: a.access, va: vaHex(a.va), sym: a.sym, fault: bad.fault! });
}

function resumed(k: Arm64Kernel, cpu: number): Violation | undefined {
  const p = k.machine.cpus[cpu].params, name = (pa: number) => k.machine.mem.frame(pa)?.name ?? pa.toString(16);
  if (p.ttbr1.BADDR === k.sym.swapper_pg_dir.pa && p.ttbr0.BADDR !== k.sym.idmap_pg_dir?.pa) return undefined;
  return violation('functional', 'a CPU leaves the nG rewrite without swapper_pg_dir installed', { cpu, TTBR1: name(p.ttbr1.BADDR), TTBR0: name(p.ttbr0.BADDR) });
}

export const functional: Invariant = {
  id: 'functional',
  check(k, step) {
    if (step.op?.op === 'hint' && step.op.hint === 'resumed') return resumed(k, step.cpu);
    for (const e of step.effects) {
      if (e.kind !== 'access') continue;
      const v = e.el === 0 ? userAccess(k, e) : isUpper(e.va) ? kernelAccess(e) : undefined;
      if (v) return v;
    }
    return undefined;
  },
};
