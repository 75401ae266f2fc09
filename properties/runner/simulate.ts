// The one runner: `simulate(workload, mitigation, options)` serves the
// vitest properties, counterexample replay, the CLI and the benchmark.
// Software events run as hooks one at a time; each hardware event first lets
// the hook in flight run `delay` more ops, so fills, evictions, early TLBI
// completion and early register effects land between any two ops.

import { mnemonic, type MnemonicCtx } from '../../model/arch/arm64/mnemonic.ts';
import type { Hook, Op } from '../../model/arch/arm64/ops.ts';
import { isUpper, vaHex } from '../../model/arch/va.ts';
import type { InvariantId } from '../../model/claims.ts';
import { INVARIANTS } from '../../model/claims.ts';
import { Arm64Kernel, DEFAULT_OPTIONS, type Stats } from '../../model/kernel/arm64/kernel.ts';
import { isHardware, type Event, type HardwareEvent } from '../../model/kernel/events.ts';
import type { Arm64Mitigation, Arm64Options } from '../../model/mitigations/arm64/types.ts';
import { INVARIANT_CHECKS, type Invariant, type Step, type Violation } from '../invariants/index.ts';
import { invalidOp } from './validate.ts';
import { speculativeTarget } from './speculation.ts';

export interface SimOptions {
  /** Invariants to check (default: all). */
  readonly invariants?: readonly InvariantId[];
  /** Kernel configuration over the defaults; the mitigation's own `options` win. */
  readonly kernel?: Partial<Arm64Options>;
  /** Ops one event may run before its hook is declared never-ending. */
  readonly stepBudget?: number;
  /** Record a readable trace line per step. */
  readonly trace?: boolean;
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
  readonly kind: 'threw' | 'never-ends' | 'bad-op';
  readonly message: string;
  readonly event: number;
}

export interface SimResult {
  readonly violation?: Located;
  readonly error?: MitigationError;
  readonly trace: TraceLine[];
  /** Ops executed (boot included). */
  readonly ops: number;
  /** Ops by mnemonic class (`TLBI`, `MSR TTBR1_EL1`, `ISB`...), for cost reports. */
  readonly counts: Record<string, number>;
  /** Software events that ran, by kind (`syscall`, `switch`...). */
  readonly events: Record<string, number>;
  readonly stats: Stats;
  readonly options: Arm64Options;
}

export const DEFAULT_STEP_BUDGET = 5000;

class Stop extends Error {}

interface Frame { readonly cpu: number; readonly gen: Hook<unknown>; readonly event: number; next: unknown }

export function resolveOptions(m: Arm64Mitigation, over: Partial<Arm64Options> = {}): Arm64Options {
  return { ...DEFAULT_OPTIONS, ...over, ...m.options };
}

export function simulate(workload: readonly Event[], mitigation: Arm64Mitigation, options: SimOptions = {}): SimResult {
  const sim = new Sim(mitigation, options);
  try {
    sim.boot();
    workload.forEach((ev, i) => sim.event(ev, i));
    sim.drain();
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
  return sim.result();
}

class Sim {
  private readonly kernel: Arm64Kernel | undefined;
  private readonly checks: Invariant[];
  private readonly stack: Frame[] = [];
  private readonly trace: TraceLine[] = [];
  private readonly counts: Record<string, number> = {};
  private readonly eventCounts: Record<string, number> = {};
  private readonly budget: number;
  private readonly opts: Arm64Options;
  private ops = 0;
  private stepId = 0;
  private eventIndex = -1;
  private eventOps = 0;
  private violation?: Located;
  private error?: MitigationError;
  private readonly mn: MnemonicCtx;

  constructor(readonly mitigation: Arm64Mitigation, readonly options: SimOptions) {
    this.checks = (options.invariants ?? INVARIANTS).map((id) => INVARIANT_CHECKS[id]);
    this.budget = options.stepBudget ?? DEFAULT_STEP_BUDGET;
    this.opts = resolveOptions(mitigation, options.kernel);
    this.mn = { name: (pa) => this.kernel?.machine.mem.frame(pa)?.name ?? `0x${pa.toString(16)}`, asidBits: this.opts.asidBits };
    try {
      this.kernel = new Arm64Kernel(mitigation, this.opts);
    } catch (e) {
      this.error = { kind: 'threw', message: `layout hook threw: ${(e as Error).message}`, event: -1 };
    }
  }

  private get k(): Arm64Kernel {
    if (!this.kernel) throw new Stop();
    return this.kernel;
  }

  boot(): void {
    const k = this.k;
    for (const inv of this.checks) this.report(inv.initial?.(k), 0);
    for (let c = 0; c < this.opts.ncpus; c++) { this.push(c, k.bootCpu(c), -1); this.drain(); }
  }

  event(ev: Event, i: number): void {
    const k = this.k;
    if (isHardware(ev)) { this.advance(ev.delay); this.hardware(ev, i); return; }
    const top = this.stack[this.stack.length - 1];
    if (ev.k === 'irq' && top?.cpu === ev.cpu) {
      this.advance(ev.delay);
      const cpu = k.machine.cpus[ev.cpu];
      if (this.stack[this.stack.length - 1]?.cpu === ev.cpu && !cpu.I && cpu.EL === 1) {
        this.eventCounts['irq-el1'] = (this.eventCounts['irq-el1'] ?? 0) + 1;
        this.stack.push({ cpu: ev.cpu, gen: k.irqAtEl1(ev.cpu), event: i, next: undefined });
      }
      return;
    }
    this.drain();
    if (ev.cpu >= this.opts.ncpus) return;
    const h = k.event(ev);
    if (!h) return;
    this.eventCounts[ev.k] = (this.eventCounts[ev.k] ?? 0) + 1;
    this.push(ev.cpu, h, i);
  }

  private push(cpu: number, gen: Hook<unknown>, event: number): void {
    this.stack.push({ cpu, gen, event, next: undefined });
    this.eventOps = 0;
  }

  /** Run the hooks in flight to completion. */
  drain(): void { while (this.stack.length) this.stepOnce(); }

  /** Run up to `n` more ops of the hooks in flight. */
  private advance(n: number): void { for (let i = 0; i < n && this.stack.length; i++) this.stepOnce(); }

  private stepOnce(): void {
    const f = this.stack[this.stack.length - 1];
    let r: IteratorResult<Op, unknown>;
    try {
      r = f.gen.next(f.next);
    } catch (e) {
      this.fail('threw', `hook threw: ${(e as Error).message}`);
    }
    if (r.done) { this.stack.pop(); return; }
    if (++this.eventOps > this.budget) this.fail('never-ends', `hook never ends: more than ${this.budget} ops for one event`);
    const k = this.k;
    const bad = invalidOp(r.value, k.machine.mem);
    if (bad) this.fail('bad-op', bad);
    const op = r.value, cpu = k.machine.cpus[f.cpu];
    k.machine.effects = [];
    try {
      f.next = k.machine.exec(cpu, op);
    } catch (e) {
      this.fail('bad-op', `${mnemonic(op, this.mn)}: ${(e as Error).message}`);
    }
    this.ops++;
    const cls = opClass(op);
    this.counts[cls] = (this.counts[cls] ?? 0) + 1;
    this.eventIndex = f.event;
    if (this.options.trace) this.line(f.cpu, mnemonic(op, this.mn) + resultText(op, f.next, this.mn));
    this.check({ cpu: f.cpu, op, effects: k.machine.effects });
  }

  private hardware(ev: HardwareEvent, i: number): void {
    const k = this.k;
    if (ev.cpu >= this.opts.ncpus) return;
    const cpu = k.machine.cpus[ev.cpu];
    k.machine.effects = [];
    let text: string | undefined;
    switch (ev.k) {
      case 'fill': {
        const va = speculativeTarget(k, ev.cpu, ev.va);
        if (va === undefined) break;
        if (isUpper(va) && cpu.EL === 0) k.stats.specFillKernelVa++;
        k.machine.speculate(cpu, va);
        const fill = k.machine.effects[0];
        text = `speculative walk of ${vaHex(va)}` + (fill?.kind === 'fill' ? ` -> TLB fill ${fill.entry.asid === undefined ? 'global' : `asid=${fill.entry.asid}`} pa=0x${fill.entry.oa.toString(16)}` : ' (no translation)');
        break;
      }
      case 'evict': { const e = cpu.tlb.evict(ev.n); if (e) text = `TLB evicts ${vaHex(e.vaBase)} ${e.asid === undefined ? 'global' : `asid=${e.asid}`}`; break; }
      case 'sync': { const reg = cpu.takeEffect(ev.which); if (reg) text = `${reg} write takes effect before synchronisation`; break; }
      case 'land': if (k.machine.land(cpu)) text = 'a pending TLBI completes early'; break;
    }
    if (text === undefined) return;
    this.eventIndex = i;
    if (this.options.trace) this.line(ev.cpu, `[hw] ${text}`);
    this.check({ cpu: ev.cpu, hw: ev, effects: k.machine.effects });
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
    this.violation = { ...v, step: this.stepId, cpu, event: this.eventIndex };
    throw new Stop();
  }

  private fail(kind: MitigationError['kind'], message: string): never {
    this.error = { kind, message, event: this.eventIndex };
    throw new Stop();
  }



  result(): SimResult {
    const stats = this.kernel ? { ...this.kernel.stats, rollover: this.kernel.asid.rollovers } : { el0AccessAfterMunmap: 0, rollover: 0, irqAtEl0: 0, specFillKernelVa: 0 };
    return {
      violation: this.violation, error: this.error, trace: this.trace, ops: this.ops, counts: this.counts,
      events: this.eventCounts, stats, options: this.opts,
    };
  }
}

/** Cost classes: TLBI and DSB by kind, MSR by register, the rest by op. */
function opClass(op: Op): string {
  switch (op.op) {
    case 'tlbi': return `TLBI ${op.type}${op.is ? 'IS' : ''}`;
    case 'msr': return `MSR ${op.reg}`;
    case 'dsb': return `DSB ${op.option}`;
    default: return op.op;
  }
}

function resultText(op: Op, result: unknown, m: MnemonicCtx): string {
  if (op.op === 'mrs') return ` -> ${mnemonic({ op: 'msr', reg: op.reg, value: result as bigint }, m).replace(`MSR ${op.reg} `, '')}`;
  if (op.op === 'access' || op.op === 'user' || op.op === 'exception') {
    const r = result as { pa?: number; fault?: string };
    return r.fault ? ` -> ${r.fault} fault` : ` -> pa 0x${r.pa!.toString(16)}`;
  }
  return '';
}
