// The arm64 kernel: the arch half of model/kernel/kernel.ts. Boot, the
// exception paths that call the mitigation's hooks where Linux calls arch
// code (arch/arm64/kernel/entry.S el0_sync/el0_irq/el1_irq), page tables,
// the ASID allocator, and the hardware events of the arm64 machine.

import { Machine, type Effect } from '../../arch/arm64/machine.ts';
import { access, daif, note, type Hook, type Op } from '../../arch/arm64/ops.ts';
import { isUpper, vaHex, type VA } from '../../arch/va.ts';
import type { PhysMem } from '../../arch/phys.ts';
import type { Descriptor } from '../../arch/arm64/descriptor.ts';
import type { AccessResult, AnyHook, AnyOp } from '../../arch/ops.ts';
import { invalidOp } from '../../arch/arm64/validate.ts';
import { opClass, opText } from '../../arch/arm64/trace.ts';
import type { MnemonicCtx } from '../../arch/arm64/mnemonic.ts';
import type { Arm64Ctx, Arm64Mitigation, Arm64Options } from '../../mitigations/arm64/types.ts';
import type { HardwareEvent } from '../events.ts';
import { Kernel, type Entry, type KernelDatum, type Stats } from '../kernel.ts';
import type { Mm, Prot, Task } from '../task.ts';
import { Arm64View } from './view.ts';
import { AsidAllocator } from './asid.ts';
import { bootImage, type Symbols } from './image.ts';
import { PHYS_OFFSET, TRAMP_VALIAS, USER_SLOTS, physToVirt } from './layout.ts';
import { runAtBoot } from './pgtable.ts';
import { clearUserPage, freeMm, mapUserPage, newMm, rewriteUserPage } from './mm.ts';
import { bootCpu, newBootState, trackNgRewrite } from './boot.ts';
import { speculativeTarget } from '../speculation.ts';
import { reachable } from '../../arch/arm64/reach.ts';

export const DEFAULT_OPTIONS: Arm64Options = { ncpus: 2, asidBits: 3, swPan: false, maxTasks: 7, bootTasks: 5 };

export class Arm64Kernel extends Kernel<Arm64Options> {
  readonly arch = 'arm64';
  readonly machine: Machine;
  readonly sym: Symbols;
  readonly asid: AsidAllocator;
  /** VAs a speculative fill may target: user slots, kernel symbols, linear-map aliases, the trampoline. */
  readonly vaCatalogue: readonly VA[];
  readonly userSlots = USER_SLOTS;
  /** Boot-time state the CPUs share. */
  readonly boot = newBootState();
  readonly view: Arm64View = new Arm64View(this);
  private readonly mn: MnemonicCtx;

  constructor(readonly mitigation: Arm64Mitigation, opts: Arm64Options) {
    super(opts);
    const m = mitigation;
    this.asid = new AsidAllocator(opts.asidBits, m.unmapKernelAtEl0, opts.ncpus);
    const booted = bootedImage(m, opts.swPan);
    const mem = booted.mem.clone();
    const sym = (this.sym = booted.sym);
    this.machine = new Machine(mem, opts.ncpus, { TTBR0_EL1: 0n, TTBR1_EL1: 0n, TCR_EL1: 0n, VBAR_EL1: 0n, SCTLR_EL1: 0n }, opts.asidBits);
    this.vaCatalogue = [
      ...USER_SLOTS, sym.vectors.va, sym.tramp_text.va, sym.tramp_data.va, sym.init_task.va, sym.primary_crng.va,
      TRAMP_VALIAS, TRAMP_VALIAS + 4096, physToVirt(sym.primary_crng.pa), physToVirt(PHYS_OFFSET + (2 << 20)),
    ];
    this.mn = { name: (pa) => mem.frame(pa)?.name ?? `0x${pa.toString(16)}`, asidBits: opts.asidBits };
  }

  get mem(): PhysMem<Descriptor> { return this.machine.mem; }

  ctx(cpu: number): Arm64Ctx {
    const { sym, asid, opts, boot } = this;
    return { cpu, sym, asid, opts, current: this.running[cpu], mem: this.machine.mem, nG: this.mitigation.nG || boot.ngMappings, boot };
  }

  get hooks() { return this.mitigation.hooks; }

  bootCpu(cpu: number): AnyHook { return bootCpu(this, cpu); }
  atUser(cpu: number): boolean { return this.machine.cpus[cpu].EL === 0; }
  irqsOn(cpu: number): boolean { const c = this.machine.cpus[cpu]; return c.EL === 1 && !c.I; }
  inKernel(cpu: number): boolean { return this.machine.cpus[cpu].EL === 1; }

  /** el0_sync (svc, data abort) and el0_irq in entry.S: the vector, the mitigation's entry, the C handler. */
  *enterFromUser(c: number, why: Entry, detail: string): Hook {
    const sync = why !== 'irq';
    yield exception(sync ? 'sync' : 'irq', why === 'syscall' ? `svc #0 (${detail})` : why === 'fault' ? `data abort (${detail}) at user VA` : detail);
    yield* this.hooks.el0Entry(this.ctx(c), sync ? 'sync' : 'irq');
    yield note(why === 'syscall' ? `el0_svc: sys_${detail}` : why === 'fault' ? 'do_mem_abort -> do_page_fault: SIGSEGV (delivery not modelled)' : 'el0_irq: handle_arch_irq');
  }

  /** `ret_to_user` -> `kernel_exit 0`. */
  *retToUser(c: number): Hook { yield* this.hooks.el0Exit(this.ctx(c)); }

  /** An IRQ at EL1: nested in a hook with IRQs unmasked, or in the idle loop. */
  *irqInKernel(c: number): Hook {
    yield exception('irq', 'timer');
    const saved = yield* this.hooks.el1Entry(this.ctx(c));
    yield note('el1_irq: handle_arch_irq');
    yield* access('ldr', this.sym.init_task.va, 'jiffies');
    yield* this.hooks.el1Exit(this.ctx(c), saved);
  }

  switchMm(c: number, prev: Mm | undefined, next: Mm | undefined, tsk: Task | undefined): Hook { return this.hooks.switchMm(this.ctx(c), prev, next, tsk); }

  switchFrames(c: number, next: Task | undefined): void {
    const saved = this.machine.cpus[c].saved;
    saved.length = 0;
    if (next) saved.push({ EL: 0, I: false });
  }

  irqMask(mask: boolean): Op { return daif(mask); }

  readKernel(what: KernelDatum, sym: string): Hook<AccessResult> {
    return access('ldr', what === 'primary_crng' ? this.sym.primary_crng.va : this.sym.init_task.va, sym);
  }

  *copyUser(c: number, dir: 'to' | 'from', va: VA, sym: string): Hook {
    yield* this.hooks.uaccessEnable(this.ctx(c));
    yield* access(dir === 'to' ? 'sttr' : 'ldtr', va, sym); // __arch_copy_{to,from}_user: unprivileged stores and loads
    yield* this.hooks.uaccessDisable(this.ctx(c));
  }

  newMm(id: number): Mm { return newMm(this.mem, id); }
  mapUserPage(mm: Mm, va: VA, prot: Prot, tgid: number): Hook<number> { return mapUserPage(this.mem, mm, va, prot, tgid); }
  clearUserPage(mm: Mm, va: VA): Hook<number | undefined> { return clearUserPage(this.mem, mm, va); }
  rewriteUserPage(mm: Mm, va: VA, pa: number, prot: Prot): Hook { return rewriteUserPage(this.mem, mm, va, pa, prot); }
  freeMm(mm: Mm): void { freeMm(this.mem, mm); }
  mapAtExec(mm: Mm, va: VA, prot: Prot, tgid: number): void { runAtBoot(this.mem, mapUserPage(this.mem, mm, va, prot, tgid)); }

  flushTlbMm(c: number, mm: Mm): Hook { return this.hooks.flushTlbMm(this.ctx(c), mm); }
  flushTlbPage(c: number, mm: Mm, va: VA): Hook { return this.hooks.flushTlbPage(this.ctx(c), mm, va); }
  flushTlbRange(c: number, mm: Mm, start: VA, end: VA, lastLevel: boolean): Hook { return this.hooks.flushTlbRange(this.ctx(c), mm, start, end, lastLevel); }
  /** arm64's `tlb_flush` returns early for `fullmm`: "The ASID allocator will either invalidate the ASID or mark it as used" (asm/tlb.h). */
  *tlbFlushFullMm(): Hook { /* no TLBI */ }

  exec(cpu: number, op: AnyOp): unknown {
    const r = this.machine.exec(this.machine.cpus[cpu], op as Op);
    trackNgRewrite(this, cpu, op as Op);
    return r;
  }
  get effects(): Effect[] { return this.machine.effects; }
  set effects(e: Effect[]) { this.machine.effects = e; }
  invalidOp(op: unknown): string | undefined { return invalidOp(op, this.mem); }
  opText(op: AnyOp, result: unknown): string { return opText(op as Op, result, this.mn); }
  opClass(op: AnyOp): string { return opClass(op as Op); }
  override result(): Stats { return { ...this.stats, rollover: this.asid.rollovers }; }

  hardware(ev: HardwareEvent): string | undefined {
    const text = this.hardwareEvent(ev);
    if (text !== undefined) trackNgRewrite(this, ev.cpu);
    return text;
  }

  /** Speculative fills (R_SQBCS), evictions, early register effects, early TLBI completion, early store visibility. */
  private hardwareEvent(ev: HardwareEvent): string | undefined {
    const cpu = this.machine.cpus[ev.cpu];
    switch (ev.k) {
      case 'fill': {
        const p = cpu.params, va = speculativeTarget(this.vaCatalogue, () => [...reachable(this.machine, p.ttbr0.BADDR, false), ...reachable(this.machine, p.ttbr1.BADDR, true)], ev.va);
        if (va === undefined) return undefined;
        if (isUpper(va) && cpu.EL === 0) this.stats.specFillKernelVa++;
        this.machine.speculate(cpu, va);
        const fill = this.machine.effects.find((e) => e.kind === 'fill'); // after any walk-cache fills
        return `speculative walk of ${vaHex(va)}` + (fill?.kind === 'fill' ? ` -> TLB fill ${fill.entry.asid === undefined ? 'global' : `asid=${fill.entry.asid}`} pa=0x${fill.entry.oa.toString(16)}` : ' (no translation)');
      }
      case 'evict': { const e = cpu.evict(ev.n); return e && `${'next' in e ? `walk cache evicts L${e.level} table` : 'TLB evicts'} ${vaHex(e.vaBase)} ${e.asid === undefined ? 'global' : `asid=${e.asid}`}`; }
      case 'sync': { const reg = cpu.takeEffect(ev.which); return reg && `${reg} write takes effect before synchronisation`; }
      case 'land': return this.machine.land(cpu) ? 'a pending TLBI completes early' : undefined;
      case 'drain': return this.machine.drain(cpu) ? 'a page-table store becomes visible to walkers early' : undefined;
    }
  }
}

const exception = (type: 'sync' | 'irq', reason: string): Op => ({ op: 'exception', type, reason });

/** Booted images (image, swapper, the ID map), built once per mitigation and SW PAN setting. */
const images = new WeakMap<Arm64Mitigation, Map<boolean, { mem: PhysMem<Descriptor>; sym: Symbols }>>();

function bootedImage(m: Arm64Mitigation, swPan: boolean) {
  let byPan = images.get(m);
  if (!byPan) images.set(m, (byPan = new Map()));
  let img = byPan.get(swPan);
  if (!img) byPan.set(swPan, (img = bootImage({ nG: m.nG, swPan, trampoline: m.unmapKernelAtEl0, idmap: m.idmap })));
  return img;
}
