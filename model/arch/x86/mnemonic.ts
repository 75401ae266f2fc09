// x86 ops as the kernel developer reads them, in AT&T syntax where there is
// an instruction: `mov %rax, %cr3  (pgd(mm 3)+user, pcid=0x802, NOFLUSH)`,
// `invpcid type=1 (single-context) pcid=0x802`, `set_pmd ...`.

import { commonMnemonic } from '../ops.ts';
import { vaHex } from '../va.ts';
import { CR3_ADDR_MASK, CR3_NOFLUSH, CR3_PCID_MASK, X86_CR4_PCIDE, X86_CR4_PGE } from './cpu.ts';
import type { X86Op } from './ops.ts';
import { describe, encode, hex, LEVEL_NAME } from './pte.ts';

/** What a trace needs to print ops: names for physical addresses. */
export interface MnemonicCtx {
  /** Names a physical address (`init_top_pgt`, `pgd(mm 3)+user`). */
  name(pa: number): string;
}

/** INVPCID type names as the SDM gives them (§4.10.4.1). */
const INVPCID_NAME = ['individual-address', 'single-context', 'all-context incl. globals', 'all-context'] as const;

function cr3Text(v: bigint, m: MnemonicCtx): string {
  const base = Number(v & CR3_ADDR_MASK), pcid = Number(v & CR3_PCID_MASK);
  return `${m.name(base)}, pcid=${hex(pcid)}${v & CR3_NOFLUSH ? ', NOFLUSH' : ''}`;
}

function cr4Text(v: bigint): string {
  const flags = [v & X86_CR4_PCIDE && 'PCIDE', v & X86_CR4_PGE && 'PGE'].filter(Boolean);
  return `${hex(v)}${flags.length ? ': ' + flags.join(' ') : ''}`;
}

function invpcidText(op: Extract<X86Op, { op: 'invpcid' }>): string {
  const args = op.type === 0 ? ` pcid=${hex(op.pcid)} addr=${op.va === undefined ? '?' : vaHex(op.va)}` : op.type === 1 ? ` pcid=${hex(op.pcid)}` : '';
  return `invpcid type=${op.type} (${INVPCID_NAME[op.type]})${args}`;
}

const ACCESS = { read: 'read', write: 'write', fetch: 'fetch', uread: 'copy_from_user', uwrite: 'copy_to_user', iread: 'implicit read', iwrite: 'implicit write' } as const;

export function mnemonic(op: X86Op, m: MnemonicCtx): string {
  switch (op.op) {
    case 'set-pte':
      return `set_${LEVEL_NAME[op.level]} ${m.name(op.table)}[${op.index}] = ${hex(encode(op.pte))} (${describe(op.pte, op.level)})`;
    case 'mov-cr3': return `mov %rax, %cr3  (${cr3Text(op.value, m)})`;
    case 'read-cr3': return 'mov %cr3, %rax';
    case 'mov-cr4': return `mov %rax, %cr4  (${cr4Text(op.value)})`;
    case 'read-cr4': return 'mov %cr4, %rax';
    case 'invlpg': return `invlpg ${vaHex(op.va)}`;
    case 'invpcid': return invpcidText(op);
    case 'access': return `${ACCESS[op.kind]} ${vaHex(op.va)} (${op.sym})`;
    case 'exception': return op.type === 'syscall' ? `syscall (${op.reason})` : `exception: ${op.type.toUpperCase()} (${op.reason})`;
    case 'sysret': return 'sysretq';
    case 'iret': return op.ss === undefined ? 'iretq' : `iretq (SS from the LDT at ${vaHex(op.ss)})`;
    case 'cli': return 'cli';
    case 'sti': return 'sti';
    case 'wrmsr': return `wrmsr MSR_${op.msr} = ${hex(op.value)}`;
    case 'lgdt': return `lgdt ${vaHex(op.base)}`;
    case 'lidt': return `lidt ${vaHex(op.base)} (irq ${vaHex(op.handlers.irq)}, nmi ${vaHex(op.handlers.nmi)}, fault ${vaHex(op.handlers.fault)})`;
    case 'ltr': return `ltr ${vaHex(op.tss)} (sp0 ${vaHex(op.sp0)}, nmi ist ${vaHex(op.ist)})`;
    case 'ipi': return `send IPI to cpu${op.target}`;
    default: return commonMnemonic(op, 'CPL3');
  }
}
