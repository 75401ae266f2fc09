// x86 ops as the kernel developer reads them:
// `cpu1 mov %cr3 <- base=pgd(mm 3) pcid=2050 noflush`, `cpu0 invpcid type 0 pcid=2050 va=0x...`.

import { vaHex } from '../va.ts';
import { decodeCr3 } from './cr.ts';
import type { X86Op } from './ops.ts';
import { describe, encode, hex } from './pte.ts';

/** What a trace needs to print ops: names for physical addresses. */
export interface X86MnemonicCtx {
  /** Names a physical address (`init_top_pgt`, `pgd(mm 3)`). */
  name(pa: number): string;
}

function cr3Value(v: bigint, m: X86MnemonicCtx): string {
  const c = decodeCr3(v);
  return `base=${m.name(c.base)} pcid=${c.pcid}${c.noflush ? ' noflush' : ''}`;
}

export function x86Mnemonic(op: X86Op, m: X86MnemonicCtx): string {
  switch (op.op) {
    case 'str': return `STR ${m.name(op.table)}[${op.index}] (L${op.level}) = ${hex(encode(op.desc))} (${describe(op.desc)})`;
    case 'mov-cr3': return `mov %cr3 <- ${cr3Value(op.value, m)}`;
    case 'read-cr3': return 'mov %cr3 -> reg';
    case 'mov-cr4': return `mov %cr4 <- PCIDE=${+op.value.PCIDE} PGE=${+op.value.PGE}`;
    case 'invlpg': return `invlpg ${vaHex(op.va)}`;
    case 'invpcid': {
      const args = op.type === 0 ? ` pcid=${op.pcid} va=${op.va === undefined ? '?' : vaHex(op.va)}` : op.type === 1 ? ` pcid=${op.pcid}` : '';
      return `invpcid type ${op.type}${args}`;
    }
    case 'exception': return `exception: ${op.type.toUpperCase()} (${op.reason})`;
    case 'sysret': return 'sysret';
    case 'iret': return 'iret';
    case 'cli': return 'cli';
    case 'sti': return 'sti';
    case 'access': return `${op.kind.toUpperCase()} ${vaHex(op.va)} (${op.sym})`;
    case 'user': return `CPL3 ${op.kind} ${vaHex(op.va)}`;
    case 'note': return `// ${op.text}`;
    case 'hint': return `// ghost: ${op.hint}`;
    case 'lock': return `spin_lock(${op.lock})`;
    case 'unlock': return `spin_unlock(${op.lock})`;
    case 'wait': return `wait until ${op.what}`;
  }
}
