// The one runner: `simulate(workload, mitigation, options)` serves the
// vitest properties, counterexample replay, the CLI and the benchmark.
// Software events start kernel code on their CPU; `run` events choose which
// CPU steps next, so code on different CPUs interleaves op by op; hardware
// events (fills, evictions, early TLBI completion, early register effects)
// land between any two ops. Invariants are checked after every step.

import type { AnyHook } from '../../model/arch/ops.ts';
import type { InvariantId } from '../../model/claims.ts';
import { INVARIANTS } from '../../model/claims.ts';
import { zeroStats, type Stats } from '../../model/kernel/kernel.ts';
import { isHardware, type Event, type HardwareEvent } from '../../model/kernel/events.ts';
import type { Mitigation, Options } from '../../model/mitigations/types.ts';
import { INVARIANT_CHECKS, type Invariant, type Step, type Violation } from '../invariants/index.ts';
import type { Effect, StepOp } from '../invariants/types.ts';
import { Scheduler, type StepResult } from './scheduler.ts';
import { newKernel, resolveOptions, type AnyKernel, type KernelOf } from './arch.ts';

export { resolveOptions };

export interface SimOptions {
  /** Invariants to check (default: all). */
  readonly invariants?: readonly InvariantId[];
  /** Kernel configuration over the defaults; the mitigation's own `options` win. */
  readonly kernel?: Partial<Options>;
  /** Ops one event may run before its hook is declared never-ending. */
  readonly stepBudget?: number;
  /** Record a readable trace line per step. */
  readonly trace?: boolean;
  /**
   * Keep going after a violation, recording the first one of each invariant
   * (with the stats at that point) and no longer checking it; stop when every
   * invariant has failed. Invariants are pure predicates over the state, so
   * each first violation is the one a run checking that invariant alone stops at.
   */
  readonly firstOfEach?: boolean;
}

/** One line of a trace: a step id, the CPU, and the step as the kernel would write it. */
export interface TraceLine {
  readonly step: number;
  readonly cpu: number;
  /** Index of the workload event that caused it (-1 for boot). */
  readonly event: number;
  readonly text: string;
}

/** A violation located in the trace. */
export interface Located extends Violation {
  readonly step: number;
  readonly cpu: number;
  readonly event: number;
}

/** The mitigation failed to behave like code: it threw, never ended, or yielded a malformed op. */
export interface MitigationError {
  readonly kind: 'threw' | 'never-ends' | 'bad-op' | 'deadlock';
  readonly message: string;
  readonly event: number;
}

export interface SimResult {
  readonly violation?: Located;
  /** With `firstOfEach`: the first violation of each invariant, and the stats when it happened. */
  readonly firsts: Partial<Record<InvariantId, { readonly violation: Located; readonly stats: Stats }>>;
  readonly error?: MitigationError;
  readonly trace: TraceLine[];
  /** Ops executed (boot included). */
  readonly ops: number;
  /** Ops by mnemonic class (`TLBI`, `MSR TTBR1_EL1`, `ISB`...), for cost reports. */
  readonly counts: Record<string, number>;
  /** Software events that ran, by kind (`syscall`, `switch`...). */
  readonly events: Record<string, number>;
  readonly stats: Stats;
  readonly options: Options;
  /** The kernel (and machine) as the run left them. */
  readonly kernel?: AnyKernel;
}

export const DEFAULT_STEP_BUDGET = 5000;

/** A TLB flush's cost class: the instruction, and whose PCID it hit (`invpcid type=0 pcid=0x802 0x...` -> `invpcid type=0 (user PCID)`). */
const flushKind = (how: string): string =>
  how.replace(/ pcid=0x([0-9a-f]+).*$/, (_, p: string) => ((parseInt(p, 16) & 0x800) !== 0 ? ' (user PCID)' : ' (kernel PCID)')).replace(/ 0x[0-9a-f]+$/, '');

class Stop extends Error {}

export function simulate(workload: readonly Event[], mitigation: Mitigation, options: SimOptions = {}): SimResult {
  const sim = new Sim(mitigation, options);
  try {
    sim.boot();
    workload.forEach((ev, i) => sim.event(ev, i));
    sim.drainAll();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return sim.result();
}

class Sim {
  private readonly kernel: AnyKernel | undefined;
  private checks: Invariant[];
  private readonly firsts: SimResult['firsts'] = {};
  private readonly sched: Scheduler;
  private readonly trace: TraceLine[] = [];
  private readonly counts: Record<string, number> = {};
  private readonly eventCounts: Record<string, number> = {};
  private readonly budget: number;
  private readonly opts: Options;
  /** Per CPU: ops run for the event in flight (against the step budget). */
  private readonly eventOps: number[];
  private ops = 0;
  private stepId = 0;
  private eventIndex = -1;
  private violation?: Located;
  private error?: MitigationError;

  constructor(readonly mitigation: Mitigation, readonly options: SimOptions) {
    this.checks = (options.invariants ?? INVARIANTS).map((id) => INVARIANT_CHECKS[id]);
    this.budget = options.stepBudget ?? DEFAULT_STEP_BUDGET;
    this.opts = resolveOptions(mitigation, options.kernel);
    this.sched = new Scheduler(this.opts.ncpus);
    this.eventOps = new Array(this.opts.ncpus).fill(0);
    try {
      this.kernel = newKernel(mitigation, this.opts);
    } catch (e) {
      this.error = { kind: 'threw', message: `boot threw: ${(e as Error).message}`, event: -1 };
    }
  }

  private get k(): AnyKernel {
    if (!this.kernel) throw new Stop();
    return this.kernel;
  }

  boot(): void {
    const k = this.k;
    for (const inv of this.checks) this.report(inv.initial?.(k), 0);
    // Boot stays in flight: the workload's `run` events interleave it, and a software event on a CPU waits for it.
    for (let c = 0; c < this.opts.ncpus; c++) this.start(c, k.bootCpu(c), -1);
  }

  event(ev: Event, i: number): void {
    const k = this.k;
    if (ev.cpu >= this.opts.ncpus) return;
    if (isHardware(ev)) { this.hardware(ev, i); return; }
    if (ev.k === 'run') { for (let n = 0; n < ev.n && this.step(ev.cpu) === 'stepped'; n++); return; }
    if ((ev.k === 'irq' || ev.k === 'nmi') && this.sched.busy(ev.cpu)) { k.pend(ev); return; }
    this.finish(ev.cpu);
    const h = k.event(ev);
    if (!h) return;
    this.eventCounts[ev.k] = (this.eventCounts[ev.k] ?? 0) + 1;
    this.start(ev.cpu, h, i);
  }

  private start(cpu: number, gen: AnyHook<unknown>, event: number): void {
    this.sched.push(cpu, gen, event);
    this.eventOps[cpu] = 0;
  }

  /** Run `cpu` until its code in flight is done, stepping other CPUs while it is blocked. */
  private finish(cpu: number): void {
    // Fetching an op runs the hook's code up to its next yield, which may change what others wait for:
    // only two rounds in a row in which every busy CPU is blocked are a deadlock.
    let stuck = 0;
    while (this.sched.busy(cpu)) {
      if (this.step(cpu) !== 'blocked') { stuck = 0; continue; }
      const other = this.sched.stacks.findIndex((_, c) => c !== cpu && this.sched.busy(c) && this.step(c) !== 'blocked');
      if (other >= 0) stuck = 0;
      else if (++stuck > 1) this.fail('deadlock', `every CPU with code in flight is waiting (cpu${cpu} on ${this.waitingOn(cpu)})`);
    }
  }

  /** Run everything still in flight to completion, CPU by CPU. */
  drainAll(): void { for (let c = 0; c < this.opts.ncpus; c++) this.finish(c); }

  /** One step of `cpu`: take a pending IRQ if unmasked, else fetch and execute its next op. */
  private step(cpu: number): 'stepped' | 'blocked' | 'idle' {
    const k = this.k, irq = k.takeIrq(cpu);
    if (irq) {
      this.eventCounts['irq-el1'] = (this.eventCounts['irq-el1'] ?? 0) + 1;
      this.sched.push(cpu, irq, this.sched.stacks[cpu].at(-1)?.event ?? -1);
    }
    let r: StepResult;
    try {
      r = this.sched.fetch(cpu);
    } catch (e) {
      this.fail('threw', `hook threw: ${(e as Error).message}`);
    }
    if (r.kind !== 'op') {
      if (r.kind !== 'returned') return r.kind;
      this.wake();
      return 'stepped';
    }
    const { op, frame } = r;
    if (++this.eventOps[cpu] > this.budget) this.fail('never-ends', `hook never ends: more than ${this.budget} ops for one event`);
    const bad = k.invalidOp(op);
    if (bad) this.fail('bad-op', bad);
    k.effects = [];
    try {
      frame.next = k.exec(cpu, op);
    } catch (e) {
      this.fail('bad-op', `${k.opText(op, undefined)}: ${(e as Error).message}`);
    }
    this.ops++;
    this.count(k.opClass(op));
    for (const e of k.effects as readonly Effect[]) {
      if (e.kind === 'flush') this.count(`flush: ${flushKind(e.how)}`);
      // A translation that came from a walk, not a TLB entry: a TLB miss, by user code or by the kernel.
      if (e.kind === 'access' && e.outcomes.some((o) => o.pa !== undefined && o.via === undefined)) this.count(e.sym === 'user' ? 'TLB miss (user)' : e.access === 'fetch' ? 'TLB miss (kernel fetch)' : 'TLB miss (kernel)');
    }
    this.eventIndex = frame.event;
    if (this.options.trace) this.line(cpu, k.opText(op, frame.next));
    this.check({ cpu, op: op as StepOp, effects: k.effects });
    this.wake();
    return 'stepped';
  }

  private count(cls: string): void { this.counts[cls] = (this.counts[cls] ?? 0) + 1; }

  /** CPUs with nothing in flight (user mode, or idle) take a pending interrupt now: a timer IRQ that arrived while busy, an IPI. */
  private wake(): void {
    const k = this.k;
    for (let c = 0; c < this.opts.ncpus; c++) {
      if (this.sched.busy(c)) continue;
      const h = k.atRest(c);
      if (h) this.start(c, h, this.eventIndex);
    }
  }

  private waitingOn(cpu: number): string {
    const op = this.sched.stacks[cpu].at(-1)?.op;
    return op?.op === 'wait' ? String(op.what) : op?.op === 'lock' ? String(op.lock) : 'nothing';
  }

  private hardware(ev: HardwareEvent, i: number): void {
    const k = this.k;
    k.effects = [];
    const text = k.hardware(ev);
    if (text === undefined) return;
    this.eventIndex = i;
    if (this.options.trace) this.line(ev.cpu, `[hw] ${text}`);
    this.check({ cpu: ev.cpu, hw: ev, effects: k.effects });
  }

  private line(cpu: number, text: string): void {
    this.trace.push({ step: this.stepId, cpu, event: this.eventIndex, text });
  }

  private check(step: Step): void {
    for (const inv of this.checks) this.report(inv.check(this.k, step), step.cpu);
    this.stepId++;
  }

  private report(v: Violation | undefined, cpu: number): void {
    if (!v) return;
    const located = { ...v, step: this.stepId, cpu, event: this.eventIndex };
    this.violation ??= located;
    if (!this.options.firstOfEach) throw new Stop();
    this.firsts[v.invariant] = { violation: located, stats: this.k.result() };
    this.checks = this.checks.filter((inv) => inv.id !== v.invariant);
    if (this.checks.length === 0) throw new Stop();
  }

  private fail(kind: MitigationError['kind'], message: string): never {
    this.error = { kind, message, event: this.eventIndex };
    throw new Stop();
  }



  result(): SimResult {
    const stats = this.kernel ? this.kernel.result() : zeroStats();
    return {
      violation: this.violation, firsts: this.firsts, error: this.error, trace: this.trace, ops: this.ops, counts: this.counts,
      events: this.eventCounts, stats, options: this.opts, kernel: this.kernel,
    };
  }
}


/** A kernel booted to the point where every CPU runs a task at EL0 (for tests and tools). */
export function bootKernel<M extends Mitigation>(m: M, kernel: Partial<Options> = {}): KernelOf<M> {
  const r = simulate([], m, { kernel, invariants: [] });
  if (r.error || !r.kernel) throw new Error(`boot failed: ${r.error?.message}`);
  return r.kernel as KernelOf<M>;
}
