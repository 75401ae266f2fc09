// The x86-64 input alphabet: the hardware steps a hook may yield (an entry
// store, MOV to/from CR3, MOV to CR4, INVLPG, INVPCID, CLI/STI, SYSRET/IRET),
// the hardware events the kernel layer drives (exceptions, user accesses), a
// ghost hint, software steps, and `note` for traces. The shared software ops
// (`note`, `hint`, `lock`, `unlock`, `wait`, `access`, `user`) have the arm64
// shapes. Hooks are generators: `const v = yield* readCr3()` reads CR3, and
// another CPU may step between any two ops.

import type { VA } from '../va.ts';
import type { Entry } from './pte.ts';
import type { Cr4 } from './cr.ts';

export { cr3, CR3_NOFLUSH, CR3_PCID_MASK, CR3_ADDR_MASK, decodeCr3, type Cr3, type Cr4 } from './cr.ts';

/**
 * Kernel memory accesses: a load, a store, an instruction fetch, or a load or
 * store checked with user-mode rights (`ldtr`/`sttr`). x86 has no such
 * instructions; the names are shared with arm64 and stand for the uaccess
 * routines (`copy_to_user`), which must only reach what user mode may.
 * Simplification: SMAP/STAC is not modelled, so this is how a hook says
 * "an access on behalf of user space".
 */
export type AccessKind = 'ldr' | 'str' | 'fetch' | 'ldtr' | 'sttr';

/** INVPCID types (x86-pti.md §4c, `INVPCID_TYPE_*`; SDM §4.10.4.1). */
export const INVPCID_TYPE_INDIV_ADDR = 0;
export const INVPCID_TYPE_SINGLE_CTXT = 1;
export const INVPCID_TYPE_ALL_INCL_GLOBAL = 2;
export const INVPCID_TYPE_ALL_NON_GLOBAL = 3;
export type InvpcidType = 0 | 1 | 2 | 3;

/** Hardware events that enter the kernel: SYSCALL, a maskable interrupt, an NMI, or a fault (#PF, #GP...). */
export type ExceptionType = 'syscall' | 'irq' | 'nmi' | 'fault';

export type X86Op =
  /** Store a paging-structure entry (`set_pte`, `set_pmd`, `set_pgd`, `native_pte_clear`). */
  | { readonly op: 'str'; readonly table: number; readonly index: number; readonly level: number; readonly desc: Entry }
  /** MOV to CR3 (`native_write_cr3`, `SWITCH_TO_USER_CR3`): bit 63 is the no-flush hint. */
  | { readonly op: 'mov-cr3'; readonly value: bigint }
  /** MOV from CR3 (`__native_read_cr3`): the hook receives the bigint. */
  | { readonly op: 'read-cr3' }
  /** MOV to CR4 (`native_write_cr4`), the flags the model uses. */
  | { readonly op: 'mov-cr4'; readonly value: Cr4 }
  /** `invlpg (addr)`. */
  | { readonly op: 'invlpg'; readonly va: VA }
  /** `__invpcid(pcid, addr, type)`: `va` is the descriptor's linear address, used by type 0. */
  | { readonly op: 'invpcid'; readonly type: InvpcidType; readonly pcid: number; readonly va?: VA }
  /** Hardware: an exception or interrupt is delivered (to CPL 0, IF cleared); the kernel layer yields it, not mitigations. */
  | { readonly op: 'exception'; readonly type: ExceptionType; readonly reason: string }
  /** SYSRET: return to the saved privilege level and IF. */
  | { readonly op: 'sysret' }
  /** IRET: return to the saved privilege level and IF. */
  | { readonly op: 'iret' }
  /** CLI: clear RFLAGS.IF. */
  | { readonly op: 'cli' }
  /** STI: set RFLAGS.IF. */
  | { readonly op: 'sti' }
  /** A kernel memory access; the hook receives an `AccessResult`. `sym` names the target for traces. */
  | { readonly op: 'access'; readonly kind: AccessKind; readonly va: VA; readonly sym: string }
  /** A load or store by user code at CPL 3; the kernel layer yields it on behalf of the task. */
  | { readonly op: 'user'; readonly kind: 'load' | 'store'; readonly va: VA }
  /** No hardware effect: a line of kernel source context in the trace. */
  | { readonly op: 'note'; readonly text: string }
  /** Ghost hint (Casemate's third class), e.g. `tlb-maintained`: the kernel path that changed user translations returns here. */
  | { readonly op: 'hint'; readonly hint: string }
  /** Software step: take a spinlock; the CPU waits while another holds it. */
  | { readonly op: 'lock'; readonly lock: string }
  /** Software step: release a spinlock this CPU holds. */
  | { readonly op: 'unlock'; readonly lock: string }
  /** Software step: spin until `until()` holds; `what` names the condition in traces. */
  | { readonly op: 'wait'; readonly what: string; readonly until: () => boolean };

export type X86OpName = X86Op['op'];

/** What an access op gives back to the hook. */
export interface AccessResult {
  /** The PA reached, when the access did not fault. */
  readonly pa?: number;
  /**
   * Fault kind, when it faulted: `translation` for a not-present #PF (P = 0,
   * SDM §4.7), `permission` for a protection #PF (P = 1), `tlb-conflict`
   * when cached translations disagree on the PA.
   */
  readonly fault?: 'translation' | 'permission' | 'tlb-conflict';
}

/** A hook: a generator of ops that receives op results and returns `T`. */
export type X86Hook<T = void> = Generator<X86Op, T, unknown>;

export const str = (table: number, index: number, level: number, desc: Entry): X86Op => ({ op: 'str', table, index, level, desc });
export const movCr3 = (value: bigint): X86Op => ({ op: 'mov-cr3', value });
export const movCr4 = (value: Cr4): X86Op => ({ op: 'mov-cr4', value });
export const invlpg = (va: VA): X86Op => ({ op: 'invlpg', va });
export const invpcid = (type: InvpcidType, pcid: number, va?: VA): X86Op => (va === undefined ? { op: 'invpcid', type, pcid } : { op: 'invpcid', type, pcid, va });
export const sysret = (): X86Op => ({ op: 'sysret' });
export const iret = (): X86Op => ({ op: 'iret' });
export const cli = (): X86Op => ({ op: 'cli' });
export const sti = (): X86Op => ({ op: 'sti' });
export const note = (text: string): X86Op => ({ op: 'note', text });
export const hint = (h: string): X86Op => ({ op: 'hint', hint: h });
export const lock = (name: string): X86Op => ({ op: 'lock', lock: name });
export const unlock = (name: string): X86Op => ({ op: 'unlock', lock: name });
export const wait = (what: string, until: () => boolean): X86Op => ({ op: 'wait', what, until });

/** `invpcid_flush_one(pcid, addr)`: type 0. */
export const invpcidFlushOne = (pcid: number, va: VA): X86Op => invpcid(0, pcid, va);
/** `invpcid_flush_single_context(pcid)`: type 1. */
export const invpcidFlushSingleContext = (pcid: number): X86Op => invpcid(1, pcid);
/** `invpcid_flush_all()`: type 2. */
export const invpcidFlushAll = (): X86Op => invpcid(2, 0);
/** `invpcid_flush_all_nonglobals()`: type 3. */
export const invpcidFlushAllNonglobals = (): X86Op => invpcid(3, 0);

/** `__native_read_cr3()`. */
export function* readCr3(): X86Hook<bigint> { return (yield { op: 'read-cr3' }) as bigint; }

/** A kernel access to `va` (named `sym` in traces). */
export function* access(kind: AccessKind, va: VA, sym: string): X86Hook<AccessResult> {
  return (yield { op: 'access', kind, va, sym }) as AccessResult;
}
