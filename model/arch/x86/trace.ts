// How x86 steps read in traces and cost reports.

import { mnemonic, type MnemonicCtx } from './mnemonic.ts';
import type { X86AccessResult, X86Op } from './ops.ts';
import { CR3_NOFLUSH } from './cpu.ts';

/** Cost classes: INVPCID by type, MOV to CR3 with and without NOFLUSH, the rest by op. */
export function opClass(op: X86Op): string {
  switch (op.op) {
    case 'invpcid': return `invpcid type=${op.type}`;
    case 'mov-cr3': return op.value & CR3_NOFLUSH ? 'mov-cr3 noflush' : 'mov-cr3';
    default: return op.op;
  }
}

/** An op and what it gave back: `mov %cr3, %rax -> (pgd(mm 3)+user, pcid=0x802)`. */
export function opText(op: X86Op, result: unknown, m: MnemonicCtx): string {
  const text = mnemonic(op, m);
  if (op.op === 'read-cr3' || op.op === 'read-cr4') {
    if (typeof result !== 'bigint') return text;
    const as = mnemonic({ op: op.op === 'read-cr3' ? 'mov-cr3' : 'mov-cr4', value: result }, m);
    return `${text} -> ${as.slice(as.indexOf('('))}`;
  }
  if ((op.op === 'access' || op.op === 'user' || op.op === 'exception') && result) {
    const r = result as X86AccessResult;
    return `${text} -> ${r.fault ? `${r.fault} fault` : `pa 0x${r.pa!.toString(16)}`}`;
  }
  return text;
}
