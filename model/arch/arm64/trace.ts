// How steps read in traces and cost reports.

import { mnemonic, type MnemonicCtx } from './mnemonic.ts';
import type { Op } from './ops.ts';
import { describe, type Descriptor } from './descriptor.ts';

/** Cost classes: TLBI and DSB by kind, MSR by register, the rest by op. */
export function opClass(op: Op): string {
  switch (op.op) {
    case 'tlbi': return `TLBI ${op.type}${op.is ? 'IS' : ''}`;
    case 'msr': return `MSR ${op.reg}`;
    case 'dsb': return `DSB ${op.option}`;
    default: return op.op;
  }
}

/** An op and what it gave back: `MRS TTBR1_EL1 -> base=tramp_pg_dir asid=3`. */
export function opText(op: Op, result: unknown, m: MnemonicCtx): string {
  const text = mnemonic(op, m);
  if (op.op === 'mrs') return `${text} -> ${mnemonic({ op: 'msr', reg: op.reg, value: result as bigint }, m).replace(`MSR ${op.reg} `, '')}`;
  if (op.op === 'ldrd') return `${text} -> ${result === undefined ? 'fault' : describe(result as Descriptor)}`;
  if (op.op === 'access' || op.op === 'user' || op.op === 'exception') {
    const r = result as { pa?: number; fault?: string };
    return `${text} -> ${r.fault ? `${r.fault} fault` : `pa 0x${r.pa!.toString(16)}`}`;
  }
  return text;
}
