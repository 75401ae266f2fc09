// Per-CPU execution of hooks: each CPU has a stack of generator frames
// (nested IRQs push on top). Software steps are interpreted here: a CPU whose
// next op is a `lock` held elsewhere, or a `wait` whose condition is false,
// is blocked and does not step. Nothing is atomic across a yield.

import type { AnyHook, AnyOp, CommonOp } from '../../model/arch/ops.ts';

export interface Frame {
  readonly gen: AnyHook<unknown>;
  /** Workload event that started it (-1 for boot). */
  readonly event: number;
  /** Value for the next `gen.next()`. */
  next: unknown;
  /** An op fetched from the generator but not executed yet (the CPU was blocked on it). */
  op?: AnyOp;
}

export type StepResult = { readonly kind: 'op'; readonly op: AnyOp; readonly frame: Frame } | { readonly kind: 'blocked' | 'idle' | 'returned' };

export class Scheduler {
  readonly stacks: Frame[][];
  /** Spinlocks: name -> holding CPU. */
  readonly locks = new Map<string, number>();

  constructor(ncpus: number) { this.stacks = Array.from({ length: ncpus }, () => []); }

  busy(cpu: number): boolean { return this.stacks[cpu].length > 0; }
  anyBusy(): boolean { return this.stacks.some((s) => s.length > 0); }
  push(cpu: number, gen: AnyHook<unknown>, event: number): void { this.stacks[cpu].push({ gen, event, next: undefined }); }

  /**
   * Fetch the next op of `cpu`'s innermost frame. A returning frame is
   * popped; a blocked software step stays fetched. The caller executes the
   * op (software steps are already done) and stores its result in `frame.next`.
   */
  fetch(cpu: number): StepResult {
    const stack = this.stacks[cpu];
    const f = stack[stack.length - 1];
    if (!f) return { kind: 'idle' };
    if (!f.op) {
      const r = f.gen.next(f.next);
      // Frames are whole hooks (a root event, or a nested IRQ): a return value goes nowhere.
      if (r.done) { stack.pop(); return { kind: 'returned' }; }
      f.op = r.value;
    }
    const op = f.op, sw = op as CommonOp;
    if (this.blocked(cpu, sw)) return { kind: 'blocked' };
    f.op = undefined;
    if (sw.op === 'lock') this.locks.set(sw.lock, cpu);
    if (sw.op === 'unlock') {
      if (this.locks.get(sw.lock) !== cpu) throw new Error(`spin_unlock(${sw.lock}) by a CPU that does not hold it`);
      this.locks.delete(sw.lock);
    }
    return { kind: 'op', op, frame: f };
  }

  private blocked(cpu: number, op: CommonOp): boolean {
    if (op.op === 'lock') {
      const holder = this.locks.get(op.lock);
      if (holder === cpu) throw new Error(`spin_lock(${op.lock}) taken twice by cpu${cpu} (deadlock)`);
      return holder !== undefined;
    }
    return op.op === 'wait' && !op.until();
  }
}
