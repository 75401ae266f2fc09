// Ops as the kernel developer reads them: `cpu1 TLBI ASIDE1IS asid=3`,
// `cpu0 MSR TTBR1_EL1 base=swapper_pg_dir asid=2`.

import { vaHex } from '../va.ts';
import { describe, encode, hex } from './descriptor.ts';
import type { Op } from './ops.ts';
import { commonMnemonic } from '../ops.ts';
import { decodeTtbr, type SysReg } from './sysreg.ts';

/** What a trace needs to print ops: names for physical addresses, and the hardware ASID width. */
export interface MnemonicCtx {
  /** Names a physical address (`swapper_pg_dir`, `pgd(mm 3)`). */
  name(pa: number): string;
  /** ASIDs print as the hardware uses them: the field modulo 2^asidBits. */
  readonly asidBits: number;
}

function regValue(reg: SysReg, v: bigint, m: MnemonicCtx): string {
  if (reg === 'TTBR0_EL1' || reg === 'TTBR1_EL1') {
    const t = decodeTtbr(v);
    return `base=${m.name(t.BADDR)} asid=${t.ASID % 2 ** m.asidBits}`;
  }
  if (reg === 'VBAR_EL1') return vaHex(Number(v & ((1n << 49n) - 1n)));
  return hex(v);
}

export function mnemonic(op: Op, m: MnemonicCtx): string {
  switch (op.op) {
    case 'str': return `STR ${m.name(op.table)}[${op.index}] (L${op.level}) = ${hex(encode(op.desc))} (${describe(op.desc)})`;
    case 'ldrd': return `LDR ${vaHex(op.va)} (${op.sym}, L${op.level} descriptor)`;
    case 'strd': return `STR ${vaHex(op.va)} (${op.sym}, L${op.level}) = ${hex(encode(op.desc))} (${describe(op.desc)})`;
    case 'msr': return `MSR ${op.reg} ${regValue(op.reg, op.value, m)}`;
    case 'mrs': return `MRS ${op.reg}`;
    case 'tlbi': {
      const args = [op.va !== undefined ? `va=${vaHex(op.va)}` : '', op.asid !== undefined ? `asid=${op.asid % 2 ** m.asidBits}` : ''].filter(Boolean).join(' ');
      return `TLBI ${op.type}${op.is ? 'IS' : ''}${args ? ' ' + args : ''}`;
    }
    case 'dsb': return `DSB ${op.option.toUpperCase()}`;
    case 'isb': return 'ISB';
    case 'eret': return 'ERET';
    case 'daif': return op.mask ? 'MSR DAIFSet, #2' : 'MSR DAIFClr, #2';
    case 'access': return `${op.kind.toUpperCase()} ${vaHex(op.va)} (${op.sym})`;
    case 'exception': return `exception: ${op.type.toUpperCase()} (${op.reason})`;
    default: return commonMnemonic(op, 'EL0');
  }
}
