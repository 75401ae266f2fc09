// Functional (DESIGN.md), for every architecture: user accesses see what an
// ideal machine with no TLB would see (a walk of the current task's own
// tables), and the kernel never faults on its own mapping after entry. A
// mitigation that hides everything by breaking the kernel fails here. Every
// translation the hardware may have used (each hitting TLB entry) is judged.
// Also allowed for a user access: the walk over what the walker sees now (a
// store not yet visible gives a spurious fault: the handler finds the pte
// already there, mm/memory.c handle_pte_fault's `flush_tlb_fix_spurious_fault`
// path, and the access is retried) and, while a syscall on some CPU is changing this VA, the old
// page (a user access racing munmap may see either). Kernel accesses are
// judged in the upper half and, on arm64, through a TTBR0 holding a kernel
// table (the ID map during the nG rewrite). User code only runs in user
// mode: a kernel that "returns" without leaving EL1 / CPL 0 (no `eret`,
// `sysret`, `iret`) would otherwise hide everything, since no user access
// would ever be judged as one. And each CPU leaves the
// arm64 boot-time nG rewrite with swapper_pg_dir back in TTBR1 and the ID
// map gone from TTBR0 (the kernel's `resumed` hint).

import { isUpper, vaHex } from '../../model/arch/va.ts';
import type { AccessEffect, IsolationView, Judged, Outcome } from '../../model/view.ts';
import type { Arm64Kernel } from '../../model/kernel/arm64/kernel.ts';
import type { AnyKernel } from '../runner/arch.ts';
import { violation, type Invariant, type Violation } from './types.ts';

const show = (o: { pa?: number; fault?: string }): string => (o.fault ? `${o.fault} fault` : `0x${o.pa!.toString(16)}`);

function allowed(v: IsolationView, a: AccessEffect): Judged[] {
  const task = v.current(a.cpu);
  if (!task) return [{ fault: 'translation' }];
  const write = a.access === 'store' || a.access === 'sttr' || a.access === 'uwrite' || a.access === 'iwrite';
  const old = v.inFlight(task.mm, a.va).map((p): Judged => (!write || p.prot === 'rw' ? { pa: p.pa } : { fault: 'permission' }));
  return [v.ideal(task.mm, a.va, write, 'software'), v.ideal(task.mm, a.va, write, 'walker'), ...old];
}

const agrees = (o: Outcome, want: Judged): boolean => (want.fault ? o.fault !== undefined : o.fault === undefined && o.pa === want.pa);

function userAccess(v: IsolationView, a: AccessEffect): Violation | undefined {
  const ok = allowed(v, a);
  const bad = a.outcomes.find((o) => !ok.some((r) => agrees(o, r)));
  if (!bad) return undefined;
  return violation('functional', 'user access differs from the ideal machine', {
    cpu: a.cpu, access: a.access, va: vaHex(a.va), got: show(bad), ideal: show(ok[0]), via: bad.via ?? 'walk',
  });
}

/**
 * arm64: CPU `cpu`'s TTBR0 holds a kernel table (the ID map, the
 * trampoline, swapper, or a reserved empty one), so an EL1 access through it
 * is the kernel's own and must not fault. With a user pgd in TTBR0 an EL1
 * access to a lower VA is uaccess, whose faults are the fixup's business
 * (and ldtr/sttr are judged as EL0 accesses anyway).
 */
function kernelTtbr0(k: AnyKernel, cpu: number): boolean {
  if (k.arch !== 'arm64') return false;
  const s = k.sym, root = k.machine.cpus[cpu].params.ttbr0.BADDR;
  return [s.idmap_pg_dir, s.tramp_pg_dir, s.swapper_pg_dir, s.empty_zero_page, s.reserved_ttbr0].some((t) => t?.pa === root);
}

function kernelAccess(a: AccessEffect): Violation | undefined {
  const bad = a.outcomes.find((o) => o.fault);
  if (!bad) return undefined;
  return violation('functional', 'kernel faults on its own mapping', { cpu: a.cpu, access: a.access, va: vaHex(a.va), sym: a.sym, fault: bad.fault! });
}

/** arm64 only: after the nG rewrite a CPU must be back on swapper_pg_dir, off the ID map. */
function resumed(k: Arm64Kernel, cpu: number): Violation | undefined {
  const p = k.machine.cpus[cpu].params, name = (pa: number) => k.view.frameName(pa);
  if (p.ttbr1.BADDR === k.sym.swapper_pg_dir.pa && p.ttbr0.BADDR !== k.sym.idmap_pg_dir?.pa) return undefined;
  return violation('functional', 'a CPU leaves the nG rewrite without swapper_pg_dir installed', { cpu, TTBR1: name(p.ttbr1.BADDR), TTBR0: name(p.ttbr0.BADDR) });
}

/** The task's own load or store (the kernel layer yields it once the kernel has returned) runs at EL0 / CPL 3. */
function inUserMode(v: IsolationView, cpu: number, va: number): Violation | undefined {
  if (v.atUser(cpu)) return undefined;
  return violation('functional', 'user code runs in kernel mode: the kernel never returned to user', { cpu, va: vaHex(va) });
}

export const functional: Invariant = {
  id: 'functional',
  check(k, step) {
    if (step.op?.op === 'hint' && step.op.hint === 'resumed' && k.arch === 'arm64') return resumed(k, step.cpu);
    const mode = step.op?.op === 'user' ? inUserMode(k.view, step.cpu, step.op.va) : undefined;
    if (mode) return mode;
    for (const e of step.effects) {
      if (e.kind !== 'access') continue;
      const v = e.el === 0 ? userAccess(k.view, e) : isUpper(e.va) || kernelTtbr0(k, e.cpu) ? kernelAccess(e) : undefined;
      if (v) return v;
    }
    return undefined;
  },
};
