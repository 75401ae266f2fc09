// Well-formedness of arm64 ops (model/arch/validate.ts explains why).

import type { Op } from './ops.ts';
import { SYSREGS } from './sysreg.ts';
import type { PhysMem } from '../phys.ts';
import { PAGE_SIZE, levelSize, type Descriptor } from './descriptor.ts';
import { inRange, invalidCommon, isVa, notAnOp } from '../validate.ts';

const TLBI = ['VAE1', 'VALE1', 'VAAE1', 'VAALE1', 'ASIDE1', 'VMALLE1'];
const DSB = ['sy', 'ish', 'ishst', 'nsh', 'nshst'];
const ACCESS = ['ldr', 'str', 'fetch', 'ldtr', 'sttr'];

/** Kinds a descriptor may have at each level, 4 KiB granule (Arm ARM D8.3: no blocks at level 0, only pages at level 3). */
const KINDS = [['invalid', 'table'], ['invalid', 'table', 'block'], ['invalid', 'table', 'block'], ['invalid', 'page']];

const isBool = (v: unknown): boolean => typeof v === 'boolean';
/** An output or next-level table address: `align`-aligned, below 2^48 (48-bit PA, no FEAT_LPA). */
const isPa = (v: unknown, align: number): boolean => inRange(v, 0, 2 ** 48 - 1) && (v as number) % align === 0;

/**
 * Why `desc` cannot be stored at `level`: a kind the level does not have, or
 * a field the real 64-bit descriptor cannot hold (D8.3 field widths; the
 * output address aligned to what the entry maps).
 */
function invalidDesc(desc: unknown, level: number): string | undefined {
  const d = desc as Descriptor | undefined;
  if (!d || !KINDS[level].includes(d.kind)) return `desc is not a level ${level} descriptor (${String(d?.kind)})`;
  const bad = (field: string) => `desc ${d.kind} field ${field} = ${String((d as unknown as Record<string, unknown>)[field])} does not fit the descriptor`;
  switch (d.kind) {
    case 'invalid': return undefined;
    case 'table':
      if (!isPa(d.NLTA, PAGE_SIZE)) return bad('NLTA');
      if (!inRange(d.APTable, 0, 3)) return bad('APTable');
      return (['PXNTable', 'UXNTable', 'NSTable'] as const).map((f) => (isBool(d[f]) ? undefined : bad(f))).find(Boolean);
    default:
      if (!isPa(d.OA, levelSize(level))) return bad('OA');
      for (const [f, max] of [['AttrIndx', 7], ['AP', 3], ['SH', 3], ['POIndex', 7]] as const) if (!inRange(d[f], 0, max)) return bad(f);
      return (['NS', 'AF', 'nG', 'Contiguous', 'PXN', 'UXN'] as const).map((f) => (isBool(d[f]) ? undefined : bad(f))).find(Boolean);
  }
}

/** Why `op` is malformed, or undefined if it is well formed. */
export function invalidOp(op: unknown, mem: PhysMem<Descriptor>): string | undefined {
  const notOp = notAnOp(op);
  if (notOp) return notOp;
  const o = op as Op, common = invalidCommon(o);
  if (common !== null) return common;
  switch (o.op) {
    case 'str':
      if (!inRange(o.index, 0, 511)) return `str: index ${o.index} out of range 0..511`;
      if (!inRange(o.level, 0, 3)) return `str: level ${o.level} out of range 0..3`;
      if (!mem.frames.get(o.table)?.table) return `str: 0x${Number(o.table).toString(16)} is not a translation table`;
      return withOp('str', invalidDesc(o.desc, o.level));
    case 'ldrd': case 'strd':
      if (!isVa(o.va) || o.va % 8 !== 0) return `${o.op}: va must be an 8-byte aligned address`;
      if (!inRange(o.level, 0, 3)) return `${o.op}: level ${o.level} out of range 0..3`;
      return o.op === 'strd' ? withOp('strd', invalidDesc(o.desc, o.level)) : undefined;
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
    case 'isb': case 'eret': case 'daif': case 'exception': return undefined;
    default: return `unknown op ${String((o as { op: unknown }).op)}`;
  }
}

const withOp = (op: string, why: string | undefined): string | undefined => why && `${op}: ${why}`;
