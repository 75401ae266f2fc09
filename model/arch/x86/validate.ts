// Well-formedness of x86 ops (model/arch/validate.ts explains why). What the
// hardware itself rejects (a #GP: bit 63 of CR3 with PCIDE = 0, INVPCID with
// a PCID while PCIDE = 0...) is checked by the machine when the op runs.

import type { PhysMem } from '../phys.ts';
import { inRange, invalidCommon, isVa, notAnOp } from '../validate.ts';
import type { X86Op } from './ops.ts';
import type { X86Pte } from './pte.ts';

const ACCESS = ['read', 'write', 'fetch', 'uread', 'uwrite', 'iread', 'iwrite'];
const EXCEPTION = ['syscall', 'irq', 'ipi', 'nmi', 'fault'];
const FLAGS = ['P', 'RW', 'US', 'PWT', 'PCD', 'A', 'D', 'PS', 'G', 'NX'] as const;

const isU64 = (v: unknown): boolean => typeof v === 'bigint' && v >= 0n && v < 1n << 64n;
const isPte = (e: unknown): boolean => {
  const p = e as X86Pte | undefined;
  return !!p && FLAGS.every((f) => typeof p[f] === 'boolean') && inRange(p.addr, 0, 2 ** 52 - 1) && p.addr % 4096 === 0;
};

/** Why `op` is malformed, or undefined if it is well formed. */
export function invalidOp(op: unknown, mem: PhysMem<X86Pte>): string | undefined {
  const notOp = notAnOp(op);
  if (notOp) return notOp;
  const o = op as X86Op, common = invalidCommon(o);
  if (common !== null) return common;
  switch (o.op) {
    case 'set-pte':
      if (!inRange(o.index, 0, 511)) return `set-pte: index ${o.index} out of range 0..511`;
      if (!inRange(o.level, 0, 3)) return `set-pte: level ${o.level} out of range 0..3`;
      if (!mem.frames.get(o.table)?.table) return `set-pte: 0x${Number(o.table).toString(16)} is not a paging structure`;
      return isPte(o.pte) ? undefined : 'set-pte: pte is not a decoded entry with a 4 KiB-aligned address';
    case 'mov-cr3': case 'mov-cr4': return isU64(o.value) ? undefined : `${o.op}: value must be a 64-bit bigint`;
    case 'wrmsr':
      if (o.msr !== 'LSTAR') return `wrmsr: unknown MSR ${String(o.msr)}`;
      return isU64(o.value) ? undefined : 'wrmsr: value must be a 64-bit bigint';
    case 'invlpg': return isVa(o.va) ? undefined : 'invlpg: va out of range';
    case 'invpcid':
      if (!inRange(o.type, 0, 3)) return `invpcid: unknown type ${String(o.type)}`;
      if (o.va !== undefined && !isVa(o.va)) return 'invpcid: va out of range';
      return o.type === 0 && o.va === undefined ? 'invpcid type 0: needs a va' : undefined;
    case 'access':
      if (!ACCESS.includes(o.kind)) return `access: unknown kind ${String(o.kind)}`;
      return isVa(o.va) ? undefined : 'access: va out of range';
    case 'exception': return EXCEPTION.includes(o.type) ? undefined : `exception: unknown type ${String(o.type)}`;
    case 'lgdt': return isVa(o.base) ? undefined : 'lgdt: base must be an address';
    case 'iret': return o.ss === undefined || isVa(o.ss) ? undefined : 'iret: ss must be an address';
    case 'lidt': return [o.base, o.handlers?.irq, o.handlers?.nmi, o.handlers?.fault].every(isVa) ? undefined : 'lidt: base and handlers must be addresses';
    case 'ltr': return [o.tss, o.sp0, o.ist].every(isVa) ? undefined : 'ltr: tss, sp0 and ist must be addresses';
    case 'ipi': return inRange(o.target, 0, 255) ? undefined : `ipi: bad target ${String(o.target)}`;
    case 'read-cr3': case 'read-cr4': case 'sysret': case 'cli': case 'sti': return undefined;
    default: return `unknown op ${String((o as { op: unknown }).op)}`;
  }
}
