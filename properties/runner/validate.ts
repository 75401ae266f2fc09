// Ops come from mitigation code the user wrote: each is checked before the
// machine runs it, so a malformed op is reported as bad input, not a crash.

import type { Op } from '../../model/arch/arm64/ops.ts';
import { SYSREGS } from '../../model/arch/arm64/sysreg.ts';
import type { PhysMem } from '../../model/arch/phys.ts';
import type { Descriptor } from '../../model/arch/arm64/descriptor.ts';

const TLBI = ['VAE1', 'VALE1', 'VAAE1', 'VAALE1', 'ASIDE1', 'VMALLE1'];
const DSB = ['sy', 'ish', 'ishst', 'nsh', 'nshst'];
const ACCESS = ['ldr', 'str', 'fetch', 'ldtr', 'sttr'];
const VA_LIMIT = 2 ** 49;

const isVa = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < VA_LIMIT;
const inRange = (v: unknown, lo: number, hi: number): boolean => typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Why `op` is malformed, or undefined if it is well formed. */
export function invalidOp(op: unknown, mem: PhysMem<Descriptor>): string | undefined {
  if (typeof op !== 'object' || op === null || !('op' in op)) return `hook yielded ${String(op)}, not an op`;
  const o = op as Op;
  switch (o.op) {
    case 'str':
      if (!inRange(o.index, 0, 511)) return `str: index ${o.index} out of range 0..511`;
      if (!inRange(o.level, 0, 3)) return `str: level ${o.level} out of range 0..3`;
      if (!mem.frames.get(o.table)?.table) return `str: 0x${Number(o.table).toString(16)} is not a translation table`;
      if (!o.desc || !['invalid', 'table', 'block', 'page'].includes(o.desc.kind)) return 'str: desc is not a decoded descriptor';
      return undefined;
    case 'ldrd': case 'strd':
      if (!isVa(o.va) || o.va % 8 !== 0) return `${o.op}: va must be an 8-byte aligned address`;
      if (!inRange(o.level, 0, 3)) return `${o.op}: level ${o.level} out of range 0..3`;
      if (o.op === 'strd' && (!o.desc || !['invalid', 'table', 'block', 'page'].includes(o.desc.kind))) return 'strd: desc is not a decoded descriptor';
      return undefined;
    case 'msr':
      if (!SYSREGS.includes(o.reg)) return `msr: unknown register ${String(o.reg)}`;
      return typeof o.value === 'bigint' && o.value >= 0n && o.value < 1n << 64n ? undefined : `msr ${o.reg}: value must be a 64-bit bigint`;
    case 'mrs': return SYSREGS.includes(o.reg) ? undefined : `mrs: unknown register ${String(o.reg)}`;
    case 'tlbi':
      if (!TLBI.includes(o.type)) return `tlbi: unknown type ${String(o.type)}`;
      if (o.va !== undefined && !isVa(o.va)) return `tlbi ${o.type}: va out of range`;
      if (o.asid !== undefined && !inRange(o.asid, 0, 0xffff)) return `tlbi ${o.type}: asid ${o.asid} out of range 0..65535`;
      if (/^VA/.test(o.type) && o.va === undefined) return `tlbi ${o.type}: needs a va`;
      if ((o.type === 'VAE1' || o.type === 'VALE1' || o.type === 'ASIDE1') && o.asid === undefined) return `tlbi ${o.type}: needs an asid`;
      return undefined;
    case 'dsb': return DSB.includes(o.option) ? undefined : `dsb: unknown option ${String(o.option)}`;
    case 'access':
      if (!ACCESS.includes(o.kind)) return `access: unknown kind ${String(o.kind)}`;
      return isVa(o.va) ? undefined : 'access: va out of range';
    case 'user': return isVa(o.va) ? undefined : 'user: va out of range';
    case 'lock': case 'unlock': return typeof o.lock === 'string' && o.lock ? undefined : `${o.op}: needs a lock name`;
    case 'wait': return typeof o.until === 'function' ? undefined : 'wait: needs an `until` function';
    case 'isb': case 'eret': case 'daif': case 'note': case 'exception': case 'hint': return undefined;
    default: return `unknown op ${String((o as { op: unknown }).op)}`;
  }
}
