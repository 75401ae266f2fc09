// The x86-64 kernel: the arch half of model/kernel/kernel.ts. Boot, the
// entry paths (entry.ts) that call the mitigation's CR3 hooks, page tables,
// per-CPU `cpu_tlbstate`, TLB shootdown by IPI (tlb.ts), NMIs, and the
// hardware events of the x86 machine.

import type { AccessResult, AnyHook, AnyOp } from '../../arch/ops.ts';
import type { PhysMem } from '../../arch/phys.ts';
import { isUpper, vaHex, type VA } from '../../arch/va.ts';
import { X86Machine, type X86Effect } from '../../arch/x86/machine.ts';
import { access, cli, sti, type X86Op } from '../../arch/x86/ops.ts';
import type { X86Pte } from '../../arch/x86/pte.ts';
import { reachable } from '../../arch/x86/reach.ts';
import { tagText } from '../../arch/x86/tlb.ts';
import { opClass, opText } from '../../arch/x86/trace.ts';
import { invalidOp } from '../../arch/x86/validate.ts';
import type { X86Ctx, X86Mitigation, X86Options } from '../../mitigations/x86/types.ts';
import type { Event, HardwareEvent } from '../events.ts';
import { Kernel, type Entry, type KernelDatum, type Stats } from '../kernel.ts';
import { speculativeTarget } from '../speculation.ts';
import type { Mm, Prot, Task } from '../task.ts';
import { bootCpu } from './boot.ts';
import { interruptEntry, iretExit, kernelInterrupt, nmi, syscallEntry, sysretExit } from './entry.ts';
import { bootImage, ESPFIX_STACK_VA, type X86Symbols } from './image.ts';
import { CEA, CPU_ENTRY_AREA_RO_IDT, LDT_BASE_ADDR, USER_SLOTS, cpuEntryArea, physToVirt } from './layout.ts';
import { clearUserPage, freeMm, mapUserPage, newMm, rewriteUserPage } from './mm.ts';
import { runAtBoot } from './pgtable.ts';
import { callFunctionQueue, flushTlbKernelRange, flushTlbMmRange, TLB_FLUSH_ALL, type Csd } from './tlb.ts';
import { pebsBufferVa, x86ReleaseHardware, x86ReserveHardware } from './ds.ts';
import { INIT_MM_CTX_ID, TLB_NR_DYN_ASIDS, TlbState } from './tlbstate.ts';
import { X86View } from './view.ts';
import { ldtDupContext, loadLdtSegment, writeLdt, type LdtStruct } from './ldt.ts';

export const DEFAULT_OPTIONS: X86Options = { ncpus: 2, maxTasks: 7, bootTasks: 5, pcid: true, invpcid: true, kaslr: 0, dynAsids: TLB_NR_DYN_ASIDS };

export class X86Kernel extends Kernel<X86Options> {
  readonly arch = 'x86';
  readonly machine: X86Machine;
  readonly sym: X86Symbols;
  /** `cpu_tlbstate`, per CPU. */
  readonly tlbstate: TlbState[];
  /** `call_single_queue`, per CPU: flush requests an IPI will run. */
  readonly callQueue: Csd[][];
  /** Per CPU: an NMI arrived while code was in flight; NMIs are not maskable, so it is taken at the next step. */
  readonly nmiPending: boolean[];
  /** Per CPU: an NMI handler is running (NMIs do not nest). */
  readonly inNmi: boolean[];
  /** Per CPU: `cpu_init` has loaded the IDT and TSS; NMIs before that are not modelled. */
  readonly nmiReady: boolean[];
  /** `mm_cpumask`, per mm. */
  private readonly cpumasks = new Map<Mm, Set<number>>();
  /** How each task last entered the kernel: a syscall returns with `sysretq`, anything else with `iretq`. */
  private readonly entered = new Map<Task, Entry>();
  /** `mm->context.ldt`, per mm. */
  readonly ldts = new Map<Mm, LdtStruct>();
  /** Tasks whose user SS holds an LDT selector (`pt_regs->ss` with TI set): their IRET goes through ESPFIX. */
  readonly ldtStackSegment = new Set<Task>();
  /** `pmc_refcount`: perf events holding the PMU (and the DS buffers). */
  pmcRefcount = 0;
  /** Tasks holding a perf event (one each, a simplification). */
  readonly perfEvents = new Set<Task>();
  /** Per CPU: the PEBS buffer's frame while perf has it mapped (`hwev->ds_pebs_vaddr`). */
  readonly pebsBuffers: (number | undefined)[];
  /** Some perf event exists and has finished its init: PEBS may write records (ds.ts). */
  pebsEnabled = false;
  /** `last_mm_ctx_id`. */
  private lastCtxId = INIT_MM_CTX_ID;
  /** Dynamic ASID slots handed to another mm (ghost, for statistics). */
  asidReuse = 0;
  /** CPU 0 has run `mm_init`: other CPUs may start tasks. */
  initDone = false;
  readonly userSlots = USER_SLOTS;
  /** VAs a speculative fill may target: user slots, kernel symbols, direct-map aliases, the cpu_entry_area (PEBS buffers included), ESPFIX, the LDT. */
  readonly vaCatalogue: readonly VA[];
  readonly view: X86View = new X86View(this);

  constructor(readonly mitigation: X86Mitigation, opts: X86Options) {
    super(opts);
    const booted = bootedImage(mitigation, opts);
    const mem = booted.mem.clone();
    const sym = (this.sym = booted.sym);
    this.machine = new X86Machine(mem, opts.ncpus);
    this.tlbstate = Array.from({ length: opts.ncpus }, () => new TlbState(opts.dynAsids));
    this.callQueue = Array.from({ length: opts.ncpus }, () => []);
    this.nmiPending = new Array(opts.ncpus).fill(false);
    this.inNmi = new Array(opts.ncpus).fill(false);
    this.nmiReady = new Array(opts.ncpus).fill(false);
    this.pebsBuffers = new Array(opts.ncpus).fill(undefined);
    this.vaCatalogue = [
      ...USER_SLOTS, sym._text.va, sym.entry_text.va, sym.init_task.va, sym.primary_crng.va, physToVirt(sym.primary_crng.pa),
      CPU_ENTRY_AREA_RO_IDT, cpuEntryArea(0) + CEA.entry_trampoline, cpuEntryArea(0) + CEA.entry_stack_page, pebsBufferVa(0), pebsBufferVa(1),
      ESPFIX_STACK_VA, LDT_BASE_ADDR,
    ];
  }

  get mem(): PhysMem<X86Pte> { return this.machine.mem; }
  get hooks() { return this.mitigation.hooks; }

  ctx(cpu: number): X86Ctx {
    return {
      cpu, sym: this.sym, opts: this.opts, tlbstate: this.tlbstate[cpu], current: this.running[cpu], mem: this.mem,
      pti: this.mitigation.pti, cpumask: (mm) => this.mmCpumask(mm), asidReused: () => { this.asidReuse++; },
      flushTlbMmRange: (mm, start, end) => flushTlbMmRange(this, cpu, mm, start, end),
      flushTlbKernelRange: (start, end) => flushTlbKernelRange(this, cpu, start, end),
    };
  }

  mmCpumask(mm: Mm): Set<number> {
    let s = this.cpumasks.get(mm);
    if (!s) this.cpumasks.set(mm, (s = new Set()));
    return s;
  }

  bootCpu(cpu: number): AnyHook { return bootCpu(this, cpu); }
  atUser(cpu: number): boolean { return this.machine.cpus[cpu].CPL === 3; }
  irqsOn(cpu: number): boolean { const c = this.machine.cpus[cpu]; return c.CPL === 0 && c.IF; }
  inKernel(cpu: number): boolean { return this.machine.cpus[cpu].CPL === 0; }

  *enterFromUser(c: number, why: Entry, detail: string): AnyHook {
    const t = this.running[c];
    if (t) this.entered.set(t, why);
    if (why === 'syscall') yield* syscallEntry(this, c, detail);
    else if (why === 'fault') yield* interruptEntry(this, c, 'fault', `#PF (${detail}) at user VA`, 'do_page_fault: SIGSEGV (delivery not modelled)');
    else yield* interruptEntry(this, c, 'irq', detail, 'do_IRQ: smp_apic_timer_interrupt');
  }

  *retToUser(c: number): AnyHook {
    const t = this.running[c], how = t && this.entered.get(t);
    if (t) this.entered.delete(t);
    yield* how === 'syscall' ? sysretExit(this, c) : iretExit(this, c);
  }

  irqInKernel(c: number): AnyHook {
    const sym = this.sym;
    return kernelInterrupt(this, 'irq', 'timer', function* () { yield* access('read', sym.init_task.va, 'jiffies'); });
  }

  switchMm(c: number, prev: Mm | undefined, next: Mm | undefined, tsk: Task | undefined): AnyHook { return this.hooks.switchMmIrqsOff(this.ctx(c), prev, next, tsk); }

  switchFrames(c: number, next: Task | undefined): void {
    const saved = this.machine.cpus[c].saved;
    saved.length = 0;
    if (next) saved.push({ CPL: 3, IF: true });
  }

  irqMask(mask: boolean): X86Op { return mask ? cli() : sti(); }

  readKernel(what: KernelDatum, sym: string): AnyHook<AccessResult> {
    return access('read', what === 'primary_crng' ? this.sym.primary_crng.va : this.sym.init_task.va, sym);
  }

  /** `copy_to_user` (`stac` ... `clac`; SMAP not modelled). */
  *copyUser(_c: number, dir: 'to' | 'from', va: VA, sym: string): AnyHook { yield* access(dir === 'to' ? 'uwrite' : 'uread', va, sym); }

  newMm(id: number): Mm { return newMm(this.mem, id, this.sym.init_top_pgt.pa, this.mitigation.pti, ++this.lastCtxId); }
  mapUserPage(mm: Mm, va: VA, prot: Prot, tgid: number): AnyHook<number> { return mapUserPage(this.mem, mm, va, prot, tgid, this.mitigation.pti); }
  clearUserPage(mm: Mm, va: VA): AnyHook<number | undefined> { return clearUserPage(this.mem, mm, va); }
  rewriteUserPage(mm: Mm, va: VA, pa: number, prot: Prot): AnyHook { return rewriteUserPage(this.mem, mm, va, pa, prot); }
  /** `__mmdrop`: `destroy_context_ldt` and `free_ldt_pgtables` with the rest. */
  freeMm(mm: Mm): void {
    const ldt = this.ldts.get(mm);
    if (ldt) { this.mem.free(ldt.pa); this.ldts.delete(mm); }
    freeMm(this.mem, mm, this.mitigation.pti);
    this.cpumasks.delete(mm);
  }

  override writeLdt(c: number, task: Task): AnyHook { return writeLdt(this, c, task); }
  /** Without an LDT the selector would #GP (SIGSEGV): not modelled, the event does not apply. */
  override loadSegment(c: number, reg: 'ds' | 'ss'): AnyHook | undefined {
    const t = this.running[c], ldt = t && this.ldts.get(t.mm);
    return ldt && loadLdtSegment(this, c, t, ldt, reg);
  }
  /**
   * A PEBS record, written only while an event exists (IA32_PEBS_ENABLE is
   * set when an event is scheduled in and cleared when it is removed, before
   * the last one releases the buffers). Over-approximation: on any CPU, since
   * a task's event follows the task from CPU to CPU.
   */
  override *pebsAssist(c: number): AnyHook {
    if (this.pebsEnabled && this.pebsBuffers[c] !== undefined) yield* access('iwrite', pebsBufferVa(c), 'PEBS record (the PEBS assist, via the DS area)');
  }
  override *perfEventOpen(c: number, task: Task): AnyHook {
    if (this.perfEvents.has(task)) return; // simplification: one event per task
    this.perfEvents.add(task);
    yield* x86ReserveHardware(this, c);
  }
  override *perfEventClose(c: number, task: Task): AnyHook {
    if (!this.perfEvents.delete(task)) return; // -EBADF: no event open
    yield* x86ReleaseHardware(this, c);
  }
  override ldtDupContext(c: number, parent: Mm, child: Task): AnyHook { return ldtDupContext(this, c, parent, child); }
  mapAtExec(mm: Mm, va: VA, prot: Prot, tgid: number): void { runAtBoot(this.mem, mapUserPage(this.mem, mm, va, prot, tgid, this.mitigation.pti)); }

  flushTlbMm(c: number, mm: Mm): AnyHook { return flushTlbMmRange(this, c, mm, 0, TLB_FLUSH_ALL); }
  flushTlbPage(c: number, mm: Mm, va: VA): AnyHook { return flushTlbMmRange(this, c, mm, va, va + 4096); }
  flushTlbRange(c: number, mm: Mm, start: VA, end: VA): AnyHook { return flushTlbMmRange(this, c, mm, start, end); }
  /** x86's `tlb_flush` flushes a `fullmm` teardown too (asm/tlb.h: `flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL)`). */
  tlbFlushFullMm(c: number, mm: Mm): AnyHook { return flushTlbMmRange(this, c, mm, 0, TLB_FLUSH_ALL); }

  /** NMIs are not maskable: one pending is taken at the next step, unless an NMI handler is running. */
  override pend(ev: Event): void {
    if (ev.k === 'nmi') { if (this.nmiReady[ev.cpu]) this.nmiPending[ev.cpu] = true; } else super.pend(ev);
  }

  override event(ev: Event): AnyHook | undefined {
    if (ev.k !== 'nmi' || ev.cpu >= this.opts.ncpus) return super.event(ev);
    return this.nmiReady[ev.cpu] ? this.nmiHook(ev.cpu, this.atUser(ev.cpu)) : undefined;
  }

  private *nmiHook(c: number, fromUser: boolean): AnyHook {
    this.inNmi[c] = true;
    yield* nmi(this, c, fromUser);
    this.inNmi[c] = false;
  }

  /** An interrupt to take now on a CPU with code in flight: an NMI, a CALL_FUNCTION IPI if IRQs are on, else a timer IRQ. */
  override takeIrq(c: number): AnyHook | undefined {
    if (this.nmiPending[c] && !this.inNmi[c]) { this.nmiPending[c] = false; return this.nmiHook(c, this.atUser(c)); }
    if (this.machine.cpus[c].irqPending && this.irqsOn(c)) return kernelInterrupt(this, 'ipi', 'CALL_FUNCTION_VECTOR', () => callFunctionQueue(this, c));
    return super.takeIrq(c);
  }

  /** On a CPU with nothing in flight (user mode, or idle): a pending NMI or IPI, else a pending timer IRQ. */
  override atRest(c: number): AnyHook | undefined {
    if (this.nmiPending[c]) { this.nmiPending[c] = false; return this.nmiHook(c, this.atUser(c)); }
    if (this.machine.cpus[c].irqPending && this.atUser(c)) return this.ipiFromUser(c);
    if (this.machine.cpus[c].irqPending && this.irqsOn(c)) return kernelInterrupt(this, 'ipi', 'CALL_FUNCTION_VECTOR', () => callFunctionQueue(this, c));
    return super.atRest(c);
  }

  private *ipiFromUser(c: number): AnyHook {
    this.stats.irqAtEl0++;
    const t = this.running[c];
    if (t) this.entered.set(t, 'irq');
    yield* interruptEntry(this, c, 'ipi', 'CALL_FUNCTION_VECTOR', 'smp_call_function_interrupt');
    yield* callFunctionQueue(this, c);
    yield* this.retToUser(c);
  }

  exec(cpu: number, op: AnyOp): unknown { return this.machine.exec(this.machine.cpus[cpu], op as X86Op); }
  get effects(): X86Effect[] { return this.machine.effects; }
  set effects(e: X86Effect[]) { this.machine.effects = e; }
  invalidOp(op: unknown): string | undefined { return invalidOp(op, this.mem); }
  opText(op: AnyOp, result: unknown): string { return opText(op as X86Op, result, { name: (pa) => this.mem.frame(pa)?.name ?? `0x${pa.toString(16)}` }); }
  opClass(op: AnyOp): string { return opClass(op as X86Op); }
  override result(): Stats { return { ...this.stats, rollover: this.asidReuse }; }

  /** Speculative fills (SDM §4.10.2.2) and evictions; x86 has no unsynchronised register writes, deferred invalidations or buffered table stores. */
  hardware(ev: HardwareEvent): string | undefined {
    const cpu = this.machine.cpus[ev.cpu];
    switch (ev.k) {
      case 'fill': {
        const va = speculativeTarget(this.vaCatalogue, () => reachable(this.machine, cpu.root), ev.va);
        if (va === undefined) return undefined;
        if (isUpper(va) && cpu.CPL === 3) this.stats.specFillKernelVa++;
        this.machine.speculate(cpu, va);
        const fill = this.machine.effects.find((e) => e.kind === 'fill');
        return `speculative walk of ${vaHex(va)}` + (fill?.kind === 'fill' ? ` -> TLB fill ${tagText(fill.entry)} pa=0x${fill.entry.pa.toString(16)}` : ' (no translation)');
      }
      case 'evict': { const e = cpu.tlb.evict(ev.n); return e && `TLB evicts ${vaHex(e.vaBase)} ${tagText(e)}`; }
      default: return undefined;
    }
  }
}

/** Booted images, built once per mitigation and image-shaping options. */
const images = new WeakMap<X86Mitigation, Map<string, ReturnType<typeof bootImage>>>();

function bootedImage(m: X86Mitigation, o: X86Options) {
  let byKey = images.get(m);
  if (!byKey) images.set(m, (byKey = new Map()));
  const key = `${o.kaslr}/${o.ncpus}`;
  let img = byKey.get(key);
  if (!img) byKey.set(key, (img = bootImage({ pti: m.pti, globalKernel: m.globalKernel, globalShared: m.globalShared, kaslr: o.kaslr, ncpus: o.ncpus })));
  return img;
}
