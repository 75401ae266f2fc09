// The architecture-independent kernel: tasks and mms, the software-event
// dispatch (syscalls, user accesses, IRQs, schedules) and `context_switch`,
// written once. Each architecture subclasses it with its machine, its
// exception entry and return (which call the mitigation's hooks where Linux
// calls arch code), its page-table code and its TLB flushes. The runner
// drives a kernel only through this class.

import type { AccessResult, AnyHook, AnyOp } from '../arch/ops.ts';
import { note } from '../arch/ops.ts';
import type { PhysMem } from '../arch/phys.ts';
import type { VA } from '../arch/va.ts';
import type { Change, IsolationView } from '../view.ts';
import type { Event, HardwareEvent } from './events.ts';
import type { Mm, Prot, Task, UserPage } from './task.ts';
import { syscallBody, type After } from './syscalls.ts';

/** Kernel configuration every architecture has; stored with every counterexample. */
export interface KernelOptions {
  /** Number of CPUs (2 or more). */
  readonly ncpus: number;
  /** Most live tasks; fork and clone fail with EAGAIN beyond it. */
  readonly maxTasks: number;
  /** Processes started at boot: one running per CPU, the rest runnable. */
  readonly bootTasks: number;
}

/** Counts of interesting cases, reported per property (a case that never occurs fails the suite). */
export interface Stats {
  /** A user access to a VA its mm has unmapped. */
  el0AccessAfterMunmap: number;
  /** ASID generation rollovers (x86: a dynamic ASID slot handed to another mm). */
  rollover: number;
  /** IRQs taken from user mode. */
  irqAtEl0: number;
  /** Speculative fills of kernel (upper-half) VAs attempted while in user mode: attempts, since under KPTI/PTI none should land. */
  specFillKernelVa: number;
  /** arm64: a hardware event, or a step of another CPU, while CPU 0's late-boot nG rewrite is in flight. */
  ngRewriteInterleaved: number;
}

/** Kernel data a handler touches: `current`, `jiffies`, the crng state. */
export type KernelDatum = 'current' | 'jiffies' | 'primary_crng';

/** Why user code enters the kernel. */
export type Entry = 'syscall' | 'fault' | 'irq';

export const zeroStats = (): Stats => ({ el0AccessAfterMunmap: 0, rollover: 0, irqAtEl0: 0, specFillKernelVa: 0, ngRewriteInterleaved: 0 });

export abstract class Kernel<O extends KernelOptions = KernelOptions> {
  abstract readonly arch: 'arm64' | 'x86';
  readonly tasks: Task[] = [];
  /** `current` per CPU; undefined is the idle task. */
  readonly running: (Task | undefined)[];
  readonly stats: Stats = zeroStats();
  /**
   * Ghost, per CPU: user translations the syscall in flight there is
   * changing, with the old page. Until it returns, user code (on any CPU)
   * may still see the old translation; when it returns, the stale-TLB
   * invariant checks that none is left.
   */
  readonly changes: Change[][];
  /** Per CPU: a timer IRQ arrived while code was in flight there; taken when IRQs are unmasked. */
  readonly irqPending: boolean[];
  nextPid = 1;
  /** Ghost: VAs each mm has unmapped (for the access-after-munmap statistic). */
  private readonly unmappedByMm = new Map<Mm, Set<VA>>();

  constructor(readonly opts: O) {
    this.running = new Array(opts.ncpus).fill(undefined);
    this.changes = Array.from({ length: opts.ncpus }, () => []);
    this.irqPending = new Array(opts.ncpus).fill(false);
  }

  // ---- What each architecture provides. ----

  /** The architecture-neutral view the shared invariants read. */
  abstract readonly view: IsolationView;
  /** Physical memory, as syscalls allocate and free user frames in it. */
  abstract readonly mem: Pick<PhysMem<unknown>, 'alloc' | 'free'>;
  /** User VAs a workload's slot numbers pick from. */
  abstract readonly userSlots: readonly VA[];
  /** Boot CPU `cpu`: from reset to its first task at user level. */
  abstract bootCpu(cpu: number): AnyHook;
  /** Running user code: EL0, CPL 3. */
  abstract atUser(cpu: number): boolean;
  /** In the kernel with IRQs unmasked: an IRQ would be taken now. */
  abstract irqsOn(cpu: number): boolean;
  /** In the kernel (EL1, CPL 0). */
  abstract inKernel(cpu: number): boolean;
  /**
   * Exception entry from user mode: the hardware step, the entry path, and
   * the C handler's first line (`detail`: the syscall, the fault kind, the IRQ).
   * A fault's handler sends SIGSEGV (delivery not modelled).
   */
  abstract enterFromUser(cpu: number, why: Entry, detail: string): AnyHook;
  /** The return to user mode (`ret_to_user`, `swapgs_restore_regs_and_return_to_usermode`). */
  abstract retToUser(cpu: number): AnyHook;
  /** A whole IRQ taken in the kernel: entry, handler, return. */
  abstract irqInKernel(cpu: number): AnyHook;
  /** `switch_mm(prev, next, tsk)`; `next` undefined is `init_mm`. */
  abstract switchMm(cpu: number, prev: Mm | undefined, next: Mm | undefined, tsk: Task | undefined): AnyHook;
  /** After the register switch: the exception state saved on entry is the next task's. */
  abstract switchFrames(cpu: number, next: Task | undefined): void;
  /** Mask (true) or unmask IRQs: `local_irq_disable`/`local_irq_enable`. */
  abstract irqMask(mask: boolean): AnyOp;
  /** A kernel load of `what`. */
  abstract readKernel(what: KernelDatum, sym: string): AnyHook<AccessResult>;
  /** `copy_to_user` / `copy_from_user` (`put_user`, `get_user`) of one word at user VA `va`, with user access enabled around it. */
  abstract copyUser(cpu: number, dir: 'to' | 'from', va: VA, sym: string): AnyHook;
  /** `mm_alloc` + `pgd_alloc`. */
  abstract newMm(id: number): Mm;
  /** Populate one user page with a new frame labelled `user(tgid)`; returns its PA. */
  abstract mapUserPage(mm: Mm, va: VA, prot: Prot, tgid: number): AnyHook<number>;
  /** Clear a user pte; the caller flushes the TLB, then frees the frame. Returns the old frame. */
  abstract clearUserPage(mm: Mm, va: VA): AnyHook<number | undefined>;
  /** Rewrite a mapped user pte with a new frame or permissions. */
  abstract rewriteUserPage(mm: Mm, va: VA, pa: number, prot: Prot): AnyHook;
  /** `__mmdrop`: free the page tables. */
  abstract freeMm(mm: Mm): void;
  /** Map a user page at exec time, before the task runs (no interleaving). */
  abstract mapAtExec(mm: Mm, va: VA, prot: Prot, tgid: number): void;
  /** `flush_tlb_mm`. */
  abstract flushTlbMm(cpu: number, mm: Mm): AnyHook;
  /** `flush_tlb_page`. */
  abstract flushTlbPage(cpu: number, mm: Mm, va: VA): AnyHook;
  /** `modify_ldt(1, ...)`: `write_ldt` (x86); other architectures have no LDT and return -ENOSYS. */
  *writeLdt(_cpu: number, _task: Task): AnyHook { yield note('-ENOSYS: no LDT on this architecture'); }
  /** After a user instruction (a load, a store, SYSCALL) a PEBS event samples: the processor's record (x86, while perf holds the PMU); nothing elsewhere. */
  *pebsAssist(_cpu: number): AnyHook { /* no PEBS */ }
  /** `perf_event_open` -> `x86_reserve_hardware` (x86: maps the PEBS buffers); nothing elsewhere. */
  *perfEventOpen(_cpu: number, _task: Task): AnyHook { /* no DS buffers */ }
  /** `close` of the task's perf event (or exit) -> `x86_release_hardware`; nothing elsewhere. */
  *perfEventClose(_cpu: number, _task: Task): AnyHook { /* no DS buffers */ }
  /** A user load of an LDT selector into segment register `reg` (x86, when the mm has an LDT); undefined where it does not apply. */
  loadSegment(_cpu: number, _reg: 'ds' | 'ss'): AnyHook | undefined { return undefined; }
  /** `init_new_context`'s `ldt_dup_context` at fork (x86); nothing elsewhere. */
  *ldtDupContext(_cpu: number, _parent: Mm, _child: Task): AnyHook { /* no LDT */ }
  /** `tlb_finish_mmu` of a whole-mm teardown (`fullmm`, exit_mmap). */
  abstract tlbFlushFullMm(cpu: number, mm: Mm): AnyHook;
  /** `flush_tlb_range` (`lastLevel`: only leaf entries changed). */
  abstract flushTlbRange(cpu: number, mm: Mm, start: VA, end: VA, lastLevel: boolean): AnyHook;

  // ---- What the runner calls. ----

  /** Execute one op on `cpu`; returns what the hook receives. */
  abstract exec(cpu: number, op: AnyOp): unknown;
  /** Effects of the op or hardware event just executed (cleared before each). */
  abstract effects: readonly unknown[];
  /** Apply a hardware event; returns its trace text, or undefined when it did nothing. */
  abstract hardware(ev: HardwareEvent): string | undefined;
  /** Why `op` is malformed for this architecture, or undefined. */
  abstract invalidOp(op: unknown): string | undefined;
  /** An op as the kernel developer reads it, with what it gave back. */
  abstract opText(op: AnyOp, result: unknown): string;
  /** Cost class of an op (`TLBI VAE1IS`, `MOV CR3`...). */
  abstract opClass(op: AnyOp): string;
  /** Final statistics (the ASID allocator's rollovers folded in). */
  result(): Stats { return { ...this.stats }; }

  // ---- Tasks and mms. ----

  /** A new process (fork) or, with `mm`, a new thread of it (clone). Returns undefined at `maxTasks`. */
  spawn(parent: Task | undefined, mm?: Mm): Task | undefined {
    if (this.tasks.filter((t) => t.alive).length >= this.opts.maxTasks) return undefined;
    const pid = this.nextPid++;
    const tgid = mm ? parent!.tgid : pid;
    let space = mm;
    if (!space) {
      space = this.newMm(pid);
      if (!parent) {
        // execve of a small program: text and data pages.
        this.mapAtExec(space, this.userSlots[0], 'rx', tgid);
        this.mapAtExec(space, this.userSlots[1], 'rw', tgid);
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

  /** Task number `to` among the runnable ones and the current (0 = idle). */
  pick(c: number, to: number): Task | undefined {
    const cur = this.running[c];
    const choices = [...(cur ? [cur] : []), ...this.runnable()];
    return to === 0 || choices.length === 0 ? undefined : choices[(to - 1) % choices.length];
  }

  unmapped(mm: Mm): Set<VA> {
    let s = this.unmappedByMm.get(mm);
    if (!s) this.unmappedByMm.set(mm, (s = new Set()));
    return s;
  }

  // ---- Software events. ----

  /** The software event `ev` as a hook on its CPU, or undefined when it does not apply now. */
  event(ev: Event): AnyHook | undefined {
    if (!('cpu' in ev) || ev.cpu >= this.opts.ncpus) return undefined;
    // With no kernel code in flight (the runner finishes it first), a CPU that
    // has a task runs that task's code: in user mode if the kernel really
    // returned there, and the functional invariant judges it if not.
    const c = ev.cpu, atUser = this.running[c] !== undefined;
    switch (ev.k) {
      case 'syscall': return atUser ? this.syscall(c, ev) : undefined;
      case 'access': return atUser ? this.userAccess(c, ev.op, this.userSlots[ev.slot % this.userSlots.length]) : undefined;
      case 'irq': return atUser ? this.irqFromUser(c, -1) : this.irqsOn(c) ? this.irqInKernel(c) : undefined;
      case 'switch': return atUser ? this.irqFromUser(c, ev.to) : this.running[c] === undefined && this.inKernel(c) ? this.wakeIdle(c, ev.to) : undefined;
      case 'segment': return atUser ? this.loadSegment(c, ev.reg) : undefined;
      default: return undefined;
    }
  }

  private *syscall(c: number, ev: Extract<Event, { k: 'syscall' }>): AnyHook {
    yield* this.pebsAssist(c); // the SYSCALL instruction retires at CPL 3 and may be sampled too
    yield* this.enterFromUser(c, 'syscall', ev.nr);
    yield this.irqMask(false); // local_irq_enable: syscalls run with IRQs on
    this.changes[c] = [];
    const next: After = yield* syscallBody(this, c, ev);
    yield { op: 'hint', hint: 'tlb-maintained' };
    this.changes[c] = [];
    yield this.irqMask(true); // exit to user with IRQs off
    if (next !== 'stay') yield* this.contextSwitch(c, next);
    yield* this.running[c] ? this.retToUser(c) : this.idle();
  }

  private *userAccess(c: number, op: 'load' | 'store', va: VA): AnyHook {
    const mm = this.running[c]!.mm;
    if (!mm.pages.has(va) && this.unmapped(mm).has(va)) this.stats.el0AccessAfterMunmap++;
    const r = (yield { op: 'user', kind: op, va }) as AccessResult;
    if (!r.fault) return yield* this.pebsAssist(c);
    yield* this.enterFromUser(c, 'fault', r.fault);
    yield* this.retToUser(c);
  }

  /** Timer IRQ from user mode; `to` >= 0 also reschedules (`to` 0 = idle). */
  private *irqFromUser(c: number, to: number): AnyHook {
    this.stats.irqAtEl0++;
    yield* this.enterFromUser(c, 'irq', 'timer');
    yield* this.readKernel('jiffies', 'jiffies');
    if (to >= 0) yield* this.contextSwitch(c, this.pick(c, to));
    yield* this.running[c] ? this.retToUser(c) : this.idle();
  }

  /** The idle loop: IRQs on, wait for an interrupt (`default_idle`: `sti; hlt`; arm64 `cpu_do_idle`). */
  *idle(): AnyHook {
    yield note('do_idle: local_irq_enable, wait for an interrupt');
    yield this.irqMask(false);
  }

  /** The idle loop notices a runnable task: schedule it and return to user. */
  private *wakeIdle(c: number, to: number): AnyHook {
    const next = this.pick(c, to);
    if (!next) return;
    yield* this.contextSwitch(c, next);
    yield this.irqMask(true);
    yield* this.retToUser(c);
  }

  /**
   * `context_switch`: `switch_mm` then the register switch. Simplification:
   * lazy TLB mode is not modelled; switching to the idle task installs
   * init_mm as `switch_mm(prev, &init_mm)` would. The per-task saved
   * exception state (pt_regs) moves with the task.
   */
  *contextSwitch(c: number, next: Task | undefined): AnyHook {
    const prev = this.running[c];
    if (prev === next) return;
    if (next) next.cpu = c; // claimed (`on_cpu`) before anything can interleave
    yield note(`schedule: ${prev ? `pid ${prev.pid}` : 'idle'} -> ${next ? `pid ${next.pid}` : 'idle'}`);
    yield* this.switchMm(c, prev?.mm, next?.mm, next);
    if (prev) prev.cpu = undefined;
    if (next) next.cpu = c;
    this.running[c] = next;
    this.switchFrames(c, next);
    if (prev && !prev.alive && prev.mm.users === 0 && !this.running.some((t) => t?.mm === prev.mm)) this.freeMm(prev.mm);
  }

  /** The end of boot on `cpu`: a first process (or a runnable one if fork got there first), CPU 0 starts the other boot processes, then user mode. */
  *firstTask(cpu: number): AnyHook {
    const task = this.spawn(undefined) ?? this.runnable()[0];
    if (cpu === 0) for (let i = this.opts.ncpus; i < this.opts.bootTasks; i++) this.spawn(undefined);
    if (!task) { yield* this.idle(); return; }
    yield* this.contextSwitch(cpu, task);
    yield* this.retToUser(cpu);
  }

  /** An IRQ (or, where modelled, an NMI) that arrived while code was in flight on its CPU. */
  pend(ev: Event): void { if (ev.k === 'irq') this.irqPending[ev.cpu] = true; }

  /** A pending interrupt to take now on `cpu`, which has code in flight: a timer IRQ if IRQs are unmasked. */
  takeIrq(cpu: number): AnyHook | undefined {
    if (!this.irqPending[cpu] || !this.irqsOn(cpu)) return undefined;
    this.irqPending[cpu] = false;
    return this.irqInKernel(cpu);
  }

  /** A pending interrupt to take now on `cpu`, which has nothing in flight (user mode, or idle). */
  atRest(cpu: number): AnyHook | undefined {
    if (!this.irqPending[cpu]) return undefined;
    this.irqPending[cpu] = false;
    return this.event({ k: 'irq', cpu });
  }
}
