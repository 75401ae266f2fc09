// The x86-64 input alphabet: the hardware steps a hook may yield (an entry
// store, MOV to/from CR3 and CR4, INVLPG, INVPCID, CLI/STI, SYSRET/IRET,
// WRMSR, LGDT, LIDT, LTR, an IPI), the hardware events the kernel layer drives
// (exceptions, user accesses), a ghost hint, software steps, and `note`.
// `note`, `hint`, `lock`, `unlock`, `wait` and `user` are the shared
// `CommonOp`s (model/arch/ops.ts), as in arm64/ops.ts, so arch-independent
// kernel code can yield them.
// Hooks are generators: `const v = yield* readCr3()` reads CR3, and another
// CPU may step between any two ops.

import type { VA } from '../va.ts';
import type { AccessResult as CommonResult, CommonOp } from '../ops.ts';
import type { IdtHandlers } from './cpu.ts';
import type { X86Pte } from './pte.ts';

/**
 * Kernel memory accesses: a load, a store, an instruction fetch, or
 * `copy_from_user`/`copy_to_user` between `stac` and `clac` (`uread`,
 * `uwrite`): a CPL 0 access that must only reach what the user mapping
 * grants, so the model judges it with user-mode rights (as arm64's
 * `ldtr`/`sttr`). `iread` and `iwrite` are accesses the processor makes
 * on its own at any CPL, implicit supervisor-mode accesses (SDM §4.6): a
 * descriptor read from the GDT or LDT, a pop of an IRET frame, a PEBS
 * record written to the DS buffer.
 */
export type X86AccessKind = 'read' | 'write' | 'fetch' | 'uread' | 'uwrite' | 'iread' | 'iwrite';

/** Hardware events that enter the kernel: SYSCALL, a maskable interrupt (a device's, or an IPI's), an NMI, or an exception (#PF, #GP...). */
export type ExceptionType = 'syscall' | 'irq' | 'ipi' | 'nmi' | 'fault';

/** INVPCID types (tlbflush.h `INVPCID_TYPE_*`, x86-pti.md §4c; SDM §4.10.4.1). */
export const INVPCID_TYPE_INDIV_ADDR = 0;
export const INVPCID_TYPE_SINGLE_CTXT = 1;
export const INVPCID_TYPE_ALL_INCL_GLOBAL = 2;
export const INVPCID_TYPE_ALL_NON_GLOBAL = 3;
export type InvpcidType = 0 | 1 | 2 | 3;

export type X86Op =
  /** Store a paging-structure entry (`native_set_pte/pmd/pud/pgd`, `native_pte_clear`): a plain 64-bit store. */
  | { readonly op: 'set-pte'; readonly table: number; readonly index: number; readonly level: number; readonly pte: X86Pte }
  /** `mov %rax, %cr3` (`native_write_cr3`, `SWITCH_TO_USER_CR3`): bit 63 of `value` is the no-flush hint. */
  | { readonly op: 'mov-cr3'; readonly value: bigint }
  /** `mov %cr3, %rax` (`__native_read_cr3`): the hook receives the bigint. */
  | { readonly op: 'read-cr3' }
  /** `mov %rax, %cr4` (`native_write_cr4`). */
  | { readonly op: 'mov-cr4'; readonly value: bigint }
  /** `mov %cr4, %rax` (`__read_cr4`): the hook receives the bigint. */
  | { readonly op: 'read-cr4' }
  /** `invlpg (addr)` (`__native_flush_tlb_one_user`). */
  | { readonly op: 'invlpg'; readonly va: VA }
  /** `__invpcid(pcid, addr, type)`: `va` is the descriptor's linear address, used by type 0 only. */
  | { readonly op: 'invpcid'; readonly type: InvpcidType; readonly pcid: number; readonly va?: VA }
  /** A kernel memory access; the hook receives an `X86AccessResult`. `sym` names the target for traces. */
  | { readonly op: 'access'; readonly kind: X86AccessKind; readonly va: VA; readonly sym: string }
  /** Hardware: SYSCALL, or an interrupt/exception delivered through the IDT; the kernel layer yields it, not mitigations. */
  | { readonly op: 'exception'; readonly type: ExceptionType; readonly reason: string }
  /** `sysretq`: back to CPL 3 with the saved IF (R11). */
  | { readonly op: 'sysret' }
  /**
   * `iretq`: back to the saved CPL and IF, reading the CS descriptor from
   * the GDT and, to CPL 3, the SS descriptor at `ss` (GDT[__USER_DS], or
   * the LDT entry when the frame's SS is an LDT selector; the model keeps
   * no LDTR, so the kernel layer says where). Absent `ss`: GDT[__USER_DS].
   */
  | { readonly op: 'iret'; readonly ss?: VA }
  /** `cli`: clear RFLAGS.IF. */
  | { readonly op: 'cli' }
  /** `sti`: set RFLAGS.IF. */
  | { readonly op: 'sti' }
  /** `wrmsr`: the only MSR modelled is IA32_LSTAR (`wrmsrl(MSR_LSTAR, ...)` in `syscall_init`). */
  | { readonly op: 'wrmsr'; readonly msr: 'LSTAR'; readonly value: bigint }
  /** `lgdt`: the GDT base (`load_fixmap_gdt`: the read-only alias in the cpu_entry_area). */
  | { readonly op: 'lgdt'; readonly base: VA }
  /** `lidt`: the IDT base and its gates' handlers (gate contents are not modelled as memory). */
  | { readonly op: 'lidt'; readonly base: VA; readonly handlers: IdtHandlers }
  /** `ltr`: the TSS, its RSP0 (the entry stack) and the NMI's IST stack. */
  | { readonly op: 'ltr'; readonly tss: VA; readonly sp0: VA; readonly ist: VA }
  /** A local APIC IPI (ICR write) to CPU `target`: marks an interrupt pending there; the kernel layer delivers it. */
  | { readonly op: 'ipi'; readonly target: number }
  | CommonOp;

export { note, hint, lock, unlock, wait } from '../ops.ts';

export type X86OpName = X86Op['op'];

/** What an access (or exception delivery) gives back to the hook. */
export interface X86AccessResult extends CommonResult {
  /**
   * Fault, when it faulted: `translation` (P = 0 somewhere: a #PF with error
   * code P = 0, named as arm64's), `reserved` (a #PF with RSVD = 1),
   * `non-canonical` (a #GP), `permission` (a #PF with P = 1, SDM §4.7), or
   * `tlb-conflict` when cached translations disagree on the PA.
   */
  readonly fault?: 'translation' | 'reserved' | 'non-canonical' | 'permission' | 'tlb-conflict';
}

/** The arm64 names, for code that mirrors an arm64 hook. */
export type AccessKind = X86AccessKind;
export type AccessResult = X86AccessResult;

/** A hook: a generator of ops that receives op results and returns `T`. */
export type Hook<T = void> = Generator<X86Op, T, unknown>;

export const setPte = (table: number, index: number, level: number, pte: X86Pte): X86Op => ({ op: 'set-pte', table, index, level, pte });
export const movCr3 = (value: bigint): X86Op => ({ op: 'mov-cr3', value });
export const movCr4 = (value: bigint): X86Op => ({ op: 'mov-cr4', value });
export const invlpg = (va: VA): X86Op => ({ op: 'invlpg', va });
export const invpcid = (type: InvpcidType, pcid: number, va?: VA): X86Op =>
  (va === undefined ? { op: 'invpcid', type, pcid } : { op: 'invpcid', type, pcid, va });
export const sysret = (): X86Op => ({ op: 'sysret' });
export const iret = (ss?: VA): X86Op => (ss === undefined ? { op: 'iret' } : { op: 'iret', ss });
export const cli = (): X86Op => ({ op: 'cli' });
export const sti = (): X86Op => ({ op: 'sti' });
export const wrmsr = (msr: 'LSTAR', value: bigint): X86Op => ({ op: 'wrmsr', msr, value });
export const lgdt = (base: VA): X86Op => ({ op: 'lgdt', base });
export const lidt = (base: VA, handlers: IdtHandlers): X86Op => ({ op: 'lidt', base, handlers });
export const ltr = (tss: VA, sp0: VA, ist: VA): X86Op => ({ op: 'ltr', tss, sp0, ist });
export const ipi = (target: number): X86Op => ({ op: 'ipi', target });
export const exception = (type: ExceptionType, reason: string): X86Op => ({ op: 'exception', type, reason });

/** `invpcid_flush_one(pcid, addr)`: type 0. */
export const invpcidFlushOne = (pcid: number, va: VA): X86Op => invpcid(INVPCID_TYPE_INDIV_ADDR, pcid, va);
/** `invpcid_flush_single_context(pcid)`: type 1. */
export const invpcidFlushSingleContext = (pcid: number): X86Op => invpcid(INVPCID_TYPE_SINGLE_CTXT, pcid);
/** `invpcid_flush_all()`: type 2. */
export const invpcidFlushAll = (): X86Op => invpcid(INVPCID_TYPE_ALL_INCL_GLOBAL, 0);
/** `invpcid_flush_all_nonglobals()`: type 3. */
export const invpcidFlushAllNonglobals = (): X86Op => invpcid(INVPCID_TYPE_ALL_NON_GLOBAL, 0);

/** `__native_read_cr3()`. */
export function* readCr3(): Hook<bigint> { return (yield { op: 'read-cr3' }) as bigint; }

/** `__read_cr4()`. */
export function* readCr4(): Hook<bigint> { return (yield { op: 'read-cr4' }) as bigint; }

/** A kernel access to `va` (named `sym` in traces). */
export function* access(kind: X86AccessKind, va: VA, sym: string): Hook<X86AccessResult> {
  return (yield { op: 'access', kind, va, sym }) as X86AccessResult;
}
