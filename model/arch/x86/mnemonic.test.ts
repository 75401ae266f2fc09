// Tests for x86Mnemonic (mnemonic.ts): ops print as the kernel developer reads them.
import { describe, expect, it } from 'vitest';
import { va } from '../va.ts';
import { cr3 } from './cr.ts';
import { x86Mnemonic, type X86MnemonicCtx } from './mnemonic.ts';
import { cli, hint, invlpg, invpcid, invpcidFlushAll, invpcidFlushAllNonglobals, invpcidFlushOne, invpcidFlushSingleContext, iret, lock, movCr3, movCr4, note, sti, str, sysret, unlock, wait, type X86Op } from './ops.ts';
import { kernpgTable } from './pte.ts';

const ctx: X86MnemonicCtx = { name: (pa) => (pa === 0x10_2000 ? 'pgd(mm 3)' : `pa:${pa.toString(16)}`) };
const U = va('0x400000');

describe('x86Mnemonic', () => {
  it.each<[X86Op, string]>([
    [movCr3(cr3(0x10_2000, 2, true)), 'mov %cr3 <- base=pgd(mm 3) pcid=2 noflush'],
    [movCr3(cr3(0x10_3000, 0x802)), 'mov %cr3 <- base=pa:103000 pcid=2050'],
    [{ op: 'read-cr3' }, 'mov %cr3 -> reg'],
    [movCr4({ PCIDE: true, PGE: false }), 'mov %cr4 <- PCIDE=1 PGE=0'],
    [invlpg(va('0xffffffff81000000')), 'invlpg 0xffffffff81000000'],
    [invpcid(0, 2050, U), 'invpcid type 0 pcid=2050 va=0x0000000000400000'],
    [invpcid(1, 2050), 'invpcid type 1 pcid=2050'],
    [invpcid(2, 0), 'invpcid type 2'],
    [invpcid(3, 0), 'invpcid type 3'],
    [invpcidFlushOne(2049, U), 'invpcid type 0 pcid=2049 va=0x0000000000400000'],
    [invpcidFlushSingleContext(2049), 'invpcid type 1 pcid=2049'],
    [invpcidFlushAll(), 'invpcid type 2'],
    [invpcidFlushAllNonglobals(), 'invpcid type 3'],
    [{ op: 'invpcid', type: 0, pcid: 1 }, 'invpcid type 0 pcid=1 va=?'],
    // _KERNPG_TABLE is 0x63, but D (bit 6) is ignored in a table entry and not part of the decoded form.
    [str(0x10_2000, 511, 0, kernpgTable(0x10_5000)), 'STR pgd(mm 3)[511] (L0) = 0x105023 (table 0x105000 RW x)'],
    [{ op: 'exception', type: 'syscall', reason: 'getpid' }, 'exception: SYSCALL (getpid)'],
    [sysret(), 'sysret'], [iret(), 'iret'], [cli(), 'cli'], [sti(), 'sti'],
    [{ op: 'access', kind: 'sttr', va: U, sym: 'copy_to_user' }, 'STTR 0x0000000000400000 (copy_to_user)'],
    [{ op: 'user', kind: 'store', va: U }, 'CPL3 store 0x0000000000400000'],
    [note('switch_mm_irqs_off'), '// switch_mm_irqs_off'],
    [hint('tlb-maintained'), '// ghost: tlb-maintained'],
    [lock('mm->page_table_lock'), 'spin_lock(mm->page_table_lock)'],
    [unlock('mm->page_table_lock'), 'spin_unlock(mm->page_table_lock)'],
    [wait('flush done', () => true), 'wait until flush done'],
  ])('%o prints as %s', (op, text) => { expect(x86Mnemonic(op, ctx)).toBe(text); });
});
