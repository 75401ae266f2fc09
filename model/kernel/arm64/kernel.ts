// The arm64 kernel layer: boot, tasks, scheduling, and the exception paths
// that call the mitigation's hooks where Linux calls arch code
// (arch/arm64/kernel/entry.S el0_sync/el0_irq/el1_irq, kernel/sched/core.c
// context_switch). Syscall bodies are in syscalls.ts.

import { Machine } from '../../arch/arm64/machine.ts';
import { access, daif, note, type Hook, type Op } from '../../arch/arm64/ops.ts';
import type { VA } from '../../arch/va.ts';
import type { PhysMem } from '../../arch/phys.ts';
import type { Descriptor } from '../../arch/arm64/descriptor.ts';
import type { Arm64Ctx, Arm64Mitigation, Arm64Options } from '../../mitigations/arm64/types.ts';
import type { Event } from '../events.ts';
import type { Mm, Task, UserPage } from '../task.ts';
import type { Change } from '../../view.ts';
import { Arm64View } from './view.ts';
import { AsidAllocator } from './asid.ts';
import { bootImage, type Symbols } from './image.ts';
import { PHYS_OFFSET, TRAMP_VALIAS, USER_SLOTS, physToVirt } from './layout.ts';
import { runAtBoot } from './pgtable.ts';
import { mapUserPage, newMm, freeMm } from './mm.ts';
import { syscallBody } from './syscalls.ts';
import { bootCpu, newBootState } from './boot.ts';


export const DEFAULT_OPTIONS: Arm64Options = { ncpus: 2, asidBits: 3, swPan: false, maxTasks: 7, bootTasks: 5 };

/** Counts of interesting cases, reported per property (a case that never occurs fails the suite). */
export interface Stats {
  /** A user access to a VA its mm has unmapped. */
  el0AccessAfterMunmap: number;
  /** ASID generation rollovers. */
  rollover: number;
  /** IRQs taken from EL0. */
  irqAtEl0: number;
  /** Speculative fills of kernel (upper-half) VAs attempted while at EL0. */
  specFillKernelVa: number;
}

export class Arm64Kernel {
  readonly machine: Machine;
  readonly sym: Symbols;
  readonly asid: AsidAllocator;
  readonly tasks: Task[] = [];
  /** `current` per CPU; undefined is the idle task. */
  readonly running: (Task | undefined)[];
  readonly stats: Stats = { el0AccessAfterMunmap: 0, rollover: 0, irqAtEl0: 0, specFillKernelVa: 0 };
  /**
   * Ghost, per CPU: user translations the syscall in flight there is
   * changing, with the old page. Until it returns, user code (on any CPU)
   * may still see the old translation; when it returns, the stale-TLB
   * invariant checks that none is left.
   */
  readonly changes: Change[][];
  /** VAs a speculative fill may target: user slots, kernel symbols, linear-map aliases, the trampoline. */
  readonly vaCatalogue: readonly VA[];
  nextPid = 1;
  /** Boot-time state the CPUs share. */
  readonly boot = newBootState();
  /** The architecture-neutral view the shared invariants read. */
  readonly view: Arm64View = new Arm64View(this);

  constructor(readonly mitigation: Arm64Mitigation, readonly opts: Arm64Options) {
    const m = mitigation;
    this.asid = new AsidAllocator(opts.asidBits, m.unmapKernelAtEl0, opts.ncpus);
    this.running = new Array(opts.ncpus).fill(undefined);
    this.changes = Array.from({ length: opts.ncpus }, () => []);
    const booted = bootedImage(m, opts.swPan);
    const mem = booted.mem.clone();
    const sym = (this.sym = booted.sym);
    this.machine = new Machine(mem, opts.ncpus, { TTBR0_EL1: 0n, TTBR1_EL1: 0n, TCR_EL1: 0n, VBAR_EL1: 0n, SCTLR_EL1: 0n }, opts.asidBits);
    this.vaCatalogue = [
      ...USER_SLOTS, sym.vectors.va, sym.tramp_text.va, sym.tramp_data.va, sym.init_task.va, sym.primary_crng.va,
      TRAMP_VALIAS, TRAMP_VALIAS + 4096, physToVirt(sym.primary_crng.pa), physToVirt(PHYS_OFFSET + (2 << 20)),
    ];
  }

  ctx(cpu: number): Arm64Ctx {
    const { sym, asid, opts, boot } = this;
    return { cpu, sym, asid, opts, current: this.running[cpu], mem: this.machine.mem, nG: this.mitigation.nG || boot.ngMappings, boot };
  }

  get hooks() { return this.mitigation.hooks; }

  /** Boot CPU `cpu` (boot.ts). */
  bootCpu(cpu: number): Hook { return bootCpu(this, cpu); }

  /** A new process (fork) or, with `mm`, a new thread of it (clone). Returns undefined at `maxTasks`. */
  spawn(parent: Task | undefined, mm?: Mm): Task | undefined {
    if (this.tasks.filter((t) => t.alive).length >= this.opts.maxTasks) return undefined;
    const pid = this.nextPid++;
    const tgid = mm ? parent!.tgid : pid;
    let space = mm;
    if (!space) {
      space = newMm(this.machine.mem, pid);
      if (!parent) {
        // execve of a small program: text and data pages.
        runAtBoot(this.machine.mem, mapUserPage(this.machine.mem, space, USER_SLOTS[0], 'rx', tgid));
        runAtBoot(this.machine.mem, mapUserPage(this.machine.mem, space, USER_SLOTS[1], 'rw', tgid));
      }
    }
    space.users++;
    const t: Task = { pid, tgid, mm: space, ttbr0: 0n, alive: true, ready: true };
    this.tasks.push(t);
    return t;
  }

  /** Record that the syscall on `cpu` is changing `va` in `mm`, whose old page was `old`. */
  beginChange(cpu: number, mm: Mm, va: VA, old: UserPage): void { this.changes[cpu].push({ mm, va, old }); }

  /** Old translations of (`mm`, `va`) that a syscall in flight on some CPU is changing. */
  inFlight(mm: Mm, va: VA): UserPage[] {
    return this.changes.flatMap((l) => l.filter((x) => x.mm === mm && x.va === va).map((x) => x.old));
  }

  /** Tasks that could run: alive and not running on a CPU. */
  runnable(): Task[] { return this.tasks.filter((t) => t.alive && t.ready && t.cpu === undefined); }

  /** The software event `ev` as a hook on its CPU, or undefined when it does not apply now. */
  event(ev: Event): Hook | undefined {
    if (!('cpu' in ev) || ev.cpu >= this.opts.ncpus) return undefined;
    const c = ev.cpu, cpu = this.machine.cpus[c], task = this.running[c];
    const atEl0 = task !== undefined && cpu.EL === 0;
    switch (ev.k) {
      case 'syscall': return atEl0 ? this.syscall(c, ev) : undefined;
      case 'access': return atEl0 ? this.userAccess(c, ev.op, USER_SLOTS[ev.slot % USER_SLOTS.length]) : undefined;
      case 'irq': return atEl0 ? this.irqFromEl0(c, -1) : cpu.EL === 1 && !cpu.I ? this.irqAtEl1(c) : undefined;
      case 'switch': return atEl0 ? this.irqFromEl0(c, ev.to) : task === undefined && cpu.EL === 1 ? this.wakeIdle(c, ev.to) : undefined;
      default: return undefined;
    }
  }

  private *syscall(c: number, ev: Extract<Event, { k: 'syscall' }>): Hook {
    yield exception('sync', `svc #0 (${ev.nr})`);
    yield* this.hooks.el0Entry(this.ctx(c), 'sync');
    yield note(`el0_svc: sys_${ev.nr}`);
    yield daif(false); // enable_dbg_and_irq
    this.changes[c] = [];
    const next = yield* syscallBody(this, c, ev);
    yield { op: 'hint', hint: 'tlb-maintained' };
    this.changes[c] = [];
    yield daif(true); // ret_to_user: disable_irq
    if (next !== 'stay') yield* this.contextSwitch(c, next);
    if (this.running[c]) yield* this.hooks.el0Exit(this.ctx(c));
  }

  private *userAccess(c: number, op: 'load' | 'store', va: VA): Hook {
    if (this.running[c]!.mm.pages.has(va) === false && this.unmapped(this.running[c]!.mm).has(va)) this.stats.el0AccessAfterMunmap++;
    const r = (yield { op: 'user', kind: op, va }) as { fault?: string };
    if (!r.fault) return;
    yield exception('sync', `data abort (${r.fault}) at user VA`);
    yield* this.hooks.el0Entry(this.ctx(c), 'sync');
    yield note('do_mem_abort -> do_page_fault: SIGSEGV (delivery not modelled)');
    yield* this.hooks.el0Exit(this.ctx(c));
  }

  /** Timer IRQ from EL0; `to` >= 0 also reschedules (`to` 0 = idle). */
  private *irqFromEl0(c: number, to: number): Hook {
    this.stats.irqAtEl0++;
    yield exception('irq', 'timer');
    yield* this.hooks.el0Entry(this.ctx(c), 'irq');
    yield note('el0_irq: handle_arch_irq');
    yield* access('ldr', this.sym.init_task.va, 'jiffies');
    if (to >= 0) yield* this.contextSwitch(c, this.pick(c, to));
    if (this.running[c]) yield* this.hooks.el0Exit(this.ctx(c));
  }

  /** An IRQ at EL1: nested in a hook with IRQs unmasked, or in the idle loop. */
  *irqAtEl1(c: number): Hook {
    yield exception('irq', 'timer');
    const saved = yield* this.hooks.el1Entry(this.ctx(c));
    yield note('el1_irq: handle_arch_irq');
    yield* access('ldr', this.sym.init_task.va, 'jiffies');
    yield* this.hooks.el1Exit(this.ctx(c), saved);
  }

  /** The idle loop notices a runnable task: schedule it and return to user. */
  private *wakeIdle(c: number, to: number): Hook {
    const next = this.pick(c, to);
    if (!next) return;
    yield* this.contextSwitch(c, next);
    yield daif(true);
    yield* this.retToUser(c);
  }

  /** Task number `to` among the runnable ones and the current (0 = idle). */
  pick(c: number, to: number): Task | undefined {
    const cur = this.running[c];
    const choices = [...(cur ? [cur] : []), ...this.runnable()];
    return to === 0 || choices.length === 0 ? undefined : choices[(to - 1) % choices.length];
  }

  /**
   * `context_switch`: `switch_mm` then the register switch. Simplification:
   * lazy TLB mode is not modelled; switching to the idle task installs
   * init_mm as `switch_mm(prev, &init_mm)` would. The per-task saved
   * exception state (pt_regs) moves with the task.
   */
  *contextSwitch(c: number, next: Task | undefined): Hook {
    const prev = this.running[c];
    if (prev === next) return;
    if (next) next.cpu = c; // claimed (`on_cpu`) before anything can interleave
    yield note(`schedule: ${prev ? `pid ${prev.pid}` : 'idle'} -> ${next ? `pid ${next.pid}` : 'idle'}`);
    yield* this.hooks.switchMm(this.ctx(c), prev?.mm, next?.mm, next);
    if (prev) prev.cpu = undefined;
    if (next) next.cpu = c;
    this.running[c] = next;
    this.machine.cpus[c].saved.length = 0;
    if (next) this.machine.cpus[c].saved.push({ EL: 0, I: false });
    if (prev && !prev.alive && prev.mm.users === 0 && !this.running.some((t) => t?.mm === prev.mm)) freeMm(this.machine.mem, prev.mm);
  }

  /** `ret_to_user` -> `kernel_exit 0`. */
  *retToUser(c: number): Hook { yield* this.hooks.el0Exit(this.ctx(c)); }

  /** Ghost: VAs each mm has unmapped (for the access-after-munmap statistic). */
  private readonly unmappedByMm = new Map<Mm, Set<VA>>();
  unmapped(mm: Mm): Set<VA> {
    let s = this.unmappedByMm.get(mm);
    if (!s) this.unmappedByMm.set(mm, (s = new Set()));
    return s;
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
