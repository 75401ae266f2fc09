// Invariants are small, named, pure predicates over the machine and kernel
// state after a step (and the step itself). Each returns a Violation with a
// witness, or nothing (STYLE.md 5-6).

import type { HardwareEvent } from '../../model/kernel/events.ts';
import type { Effect as Arm64Effect } from '../../model/arch/arm64/machine.ts';
import type { Op as Arm64Op } from '../../model/arch/arm64/ops.ts';
import type { X86Effect } from '../../model/arch/x86/machine.ts';
import type { X86Op } from '../../model/arch/x86/ops.ts';
import type { InvariantId } from '../../model/claims.ts';
import type { AnyKernel } from '../runner/arch.ts';

/** An op of any architecture (told apart by its `op` field). */
export type StepOp = Arm64Op | X86Op;
/** An effect of any architecture's step. */
export type Effect = Arm64Effect | X86Effect;

/** Plain data naming what went wrong: CPU, VA, descriptor or TLB entry, frame label. */
export type Witness = Record<string, string | number | boolean>;

export interface Violation {
  readonly invariant: InvariantId;
  /** Short fixed message, e.g. `EL0 reaches kernel frame`. */
  readonly rule: string;
  readonly witness: Witness;
}

/** The step just applied: an op a CPU executed, or a hardware event. */
export interface Step {
  readonly cpu: number;
  readonly op?: StepOp;
  readonly hw?: HardwareEvent;
  /** TLB fills and accesses it caused. */
  readonly effects: readonly Effect[];
}

export interface Invariant {
  readonly id: InvariantId;
  /** Checked once, on the booted state before any step. */
  initial?(k: AnyKernel): Violation | undefined;
  check(k: AnyKernel, step: Step): Violation | undefined;
}

/** The effects of a step on arm64 (for arm64-only invariants, after their `k.arch` check). */
export const arm64Effects = (step: Step): readonly Arm64Effect[] => step.effects as readonly Arm64Effect[];

export const violation = (invariant: InvariantId, rule: string, witness: Witness): Violation => ({ invariant, rule, witness });
