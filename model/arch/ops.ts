// The ops every architecture shares: source context and ghost hints for
// traces, the software steps the scheduler interprets (spinlocks, waits),
// and user loads and stores the kernel layer yields for a task. Each
// architecture's op union (arm64/ops.ts, x86/ops.ts) includes these, so
// arch-independent kernel code can yield them.

import { vaHex, type VA } from './va.ts';

/**
 * Ghost hints (Casemate's third class): `tlb-maintained`, the kernel path
 * that changed user translations returns here; `resumed`, this CPU leaves
 * the arm64 nG rewrite callback; `ng-installed`, every CPU has left it.
 */
export type Hint = 'tlb-maintained' | 'resumed' | 'ng-installed';

export type CommonOp =
  /** No hardware effect: a line of kernel source context in the trace. */
  | { readonly op: 'note'; readonly text: string }
  | { readonly op: 'hint'; readonly hint: Hint }
  /** Software step: take a spinlock (`raw_spin_lock`, `mmap_write_lock`); the CPU waits while another holds it. */
  | { readonly op: 'lock'; readonly lock: string }
  /** Software step: release a spinlock this CPU holds. */
  | { readonly op: 'unlock'; readonly lock: string }
  /** Software step: spin until `until()` holds; `what` names the condition in traces. */
  | { readonly op: 'wait'; readonly what: string; readonly until: () => boolean }
  /** A load or store by user code (EL0, CPL 3); the kernel layer yields it on behalf of the task. */
  | { readonly op: 'user'; readonly kind: 'load' | 'store'; readonly va: VA };

/** Any architecture's op, as arch-independent code sees it. */
export type AnyOp = { readonly op: string; readonly [field: string]: unknown };

/** Arch-independent kernel code: yields ops of the running architecture. */
export type AnyHook<T = void> = Generator<AnyOp, T, unknown>;

/** What an access op gives back to the hook. */
export interface AccessResult {
  /** The PA reached, when the access did not fault. */
  readonly pa?: number;
  /** Fault kind, when it faulted. */
  readonly fault?: string;
}

export const note = (text: string): CommonOp => ({ op: 'note', text });
export const hint = (h: Hint): CommonOp => ({ op: 'hint', hint: h });
export const lock = (name: string): CommonOp => ({ op: 'lock', lock: name });
export const unlock = (name: string): CommonOp => ({ op: 'unlock', lock: name });
export const wait = (what: string, until: () => boolean): CommonOp => ({ op: 'wait', what, until });

/** How the common ops read in traces. */
export function commonMnemonic(op: CommonOp, user: string): string {
  switch (op.op) {
    case 'note': return `// ${op.text}`;
    case 'hint': return `// ghost: kernel path returns (${op.hint})`;
    case 'lock': return `spin_lock(${op.lock})`;
    case 'unlock': return `spin_unlock(${op.lock})`;
    case 'wait': return `wait until ${op.what}`;
    case 'user': return `${user} ${op.kind} ${vaHex(op.va)}`;
  }
}
