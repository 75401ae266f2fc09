// The arm64 input alphabet: the hardware steps a hook may yield (Casemate's
// transitions.h: write, barrier, tlbi, msr), the hardware events the kernel
// layer drives (exceptions, user accesses), a ghost hint, and `note` for traces.
// Hooks are generators, so `const v = yield* mrs('TTBR1_EL1')` reads a register
// and another CPU may step between any two ops.

import type { VA } from '../va.ts';
import type { AccessResult as CommonResult, CommonOp } from '../ops.ts';
import type { Descriptor } from './descriptor.ts';
import type { SysReg } from './sysreg.ts';

/** TLBI operation types (Arm ARM C5.5 "A64 System instructions for TLB maintenance"), EL1&0 regime. */
export type TlbiType = 'VAE1' | 'VALE1' | 'VAAE1' | 'VAALE1' | 'ASIDE1' | 'VMALLE1';
/** DSB options used by the kernel (`dsb(ish)`, `dsb(ishst)`, `dsb(nsh)`, `dsb(sy)`). */
export type DsbOption = 'sy' | 'ish' | 'ishst' | 'nsh' | 'nshst';
/** Kernel memory accesses: `ldr`, `str`, an instruction fetch, or the unprivileged `ldtr`/`sttr` of uaccess. */
export type AccessKind = 'ldr' | 'str' | 'fetch' | 'ldtr' | 'sttr';

export type Op =
  /** Store a descriptor (`set_pte`, `set_pmd`, `pte_clear`, `WRITE_ONCE(*ptep, ...)`). */
  | { readonly op: 'str'; readonly table: number; readonly index: number; readonly level: number; readonly desc: Descriptor }
  /** Load a descriptor through a kernel VA (`ldr x, [cur_ptep]` via a fixmap); the hook receives it, or undefined on a fault. */
  | { readonly op: 'ldrd'; readonly va: VA; readonly level: number; readonly sym: string }
  /** Store a descriptor through a kernel VA (`str x, [cur_ptep]` via a fixmap). */
  | { readonly op: 'strd'; readonly va: VA; readonly level: number; readonly desc: Descriptor; readonly sym: string }
  /** `msr <reg>, xN`. */
  | { readonly op: 'msr'; readonly reg: SysReg; readonly value: bigint }
  /** `mrs xN, <reg>`: the hook receives the value. */
  | { readonly op: 'mrs'; readonly reg: SysReg }
  /** `tlbi <type>[is], xN`: `va` and `asid` as `__TLBI_VADDR` packs them. */
  | { readonly op: 'tlbi'; readonly type: TlbiType; readonly is: boolean; readonly va?: VA; readonly asid?: number }
  | { readonly op: 'dsb'; readonly option: DsbOption }
  | { readonly op: 'isb' }
  /** `eret`: return to the EL and interrupt mask saved at exception entry. */
  | { readonly op: 'eret' }
  /** `msr daifset/daifclr, #2`: mask or unmask IRQs. */
  | { readonly op: 'daif'; readonly mask: boolean }
  /** A kernel memory access; the hook receives an `AccessResult`. `sym` names the target for traces. */
  | { readonly op: 'access'; readonly kind: AccessKind; readonly va: VA; readonly sym: string }
  /** Hardware: an exception is taken (`svc`, a data abort, an IRQ); the kernel layer yields it, not mitigations. */
  | { readonly op: 'exception'; readonly type: 'sync' | 'irq'; readonly reason: string }
  | CommonOp;

export { note, lock, unlock, wait } from '../ops.ts';

export type OpName = Op['op'];

/** What an access op gives back to the hook. */
export interface AccessResult extends CommonResult {
  readonly fault?: 'translation' | 'access-flag' | 'permission' | 'tlb-conflict';
}

/** A hook: a generator of ops that receives op results and returns `T`. */
export type Hook<T = void> = Generator<Op, T, unknown>;

export const str = (table: number, index: number, level: number, desc: Descriptor): Op => ({ op: 'str', table, index, level, desc });
export const msr = (reg: SysReg, value: bigint): Op => ({ op: 'msr', reg, value });
export const tlbi = (type: TlbiType, is: boolean, arg: { va?: VA; asid?: number } = {}): Op => ({ op: 'tlbi', type, is, ...arg });
export const dsb = (option: DsbOption): Op => ({ op: 'dsb', option });
export const isb = (): Op => ({ op: 'isb' });
export const eret = (): Op => ({ op: 'eret' });
export const daif = (mask: boolean): Op => ({ op: 'daif', mask });

/** Load the descriptor at kernel VA `va` (an entry of a level-`level` table). */
export function* ldrd(va: VA, level: number, sym: string): Hook<Descriptor | undefined> {
  return (yield { op: 'ldrd', va, level, sym }) as Descriptor | undefined;
}
export const strd = (va: VA, level: number, desc: Descriptor, sym: string): Op => ({ op: 'strd', va, level, desc, sym });

/** `mrs xN, <reg>`. */
export function* mrs(reg: SysReg): Hook<bigint> { return (yield { op: 'mrs', reg }) as bigint; }

/** A kernel access to `va` (named `sym` in traces). */
export function* access(kind: AccessKind, va: VA, sym: string): Hook<AccessResult> {
  return (yield { op: 'access', kind, va, sym }) as AccessResult;
}
