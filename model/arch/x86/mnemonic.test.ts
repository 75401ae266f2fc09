// Tests for x86 mnemonics (mnemonic.ts): ops print as the kernel or its assembly writes them.
import { describe, expect, it } from 'vitest';
import { va, vaBig } from '../va.ts';
import { cr3Value, X86_CR4_PCIDE, X86_CR4_PGE } from './cpu.ts';
import { mnemonic, type MnemonicCtx } from './mnemonic.ts';
import {
  access, cli, exception, hint, invlpg, invpcid, invpcidFlushAll, invpcidFlushAllNonglobals, invpcidFlushOne,
  invpcidFlushSingleContext, ipi, iret, lgdt, lidt, lock, ltr, movCr3, movCr4, note, readCr3, readCr4, setPte, sti, sysret,
  unlock, wait, wrmsr, type X86Op,
} from './ops.ts';
import { pte } from './pte.ts';
import { opClass, opText } from './trace.ts';

const ctx: MnemonicCtx = { name: (pa) => ({ 0x10_0000: 'pgd(mm 3)', 0x10_1000: 'pgd(mm 3)+user' } as Record<number, string>)[pa] ?? `pa:${pa.toString(16)}` };
const KTEXT = va('0xffffffff81000000');
/** The first op a generator hook yields. */
const first = (h: Generator<X86Op, unknown, unknown>): X86Op => h.next().value as X86Op;

describe('mnemonic', () => {
  it.each<[X86Op, string]>([
    [movCr3(cr3Value(0x10_1000, 0x802, true)), 'mov %rax, %cr3  (pgd(mm 3)+user, pcid=0x802, NOFLUSH)'],
    [movCr3(cr3Value(0x10_0000, 2)), 'mov %rax, %cr3  (pgd(mm 3), pcid=0x2)'],
    [first(readCr3()), 'mov %cr3, %rax'],
    [movCr4(X86_CR4_PGE | X86_CR4_PCIDE | 0x20n), 'mov %rax, %cr4  (0x200a0: PCIDE PGE)'],
    [movCr4(0x20n), 'mov %rax, %cr4  (0x20)'],
    [first(readCr4()), 'mov %cr4, %rax'],
    [invlpg(KTEXT), 'invlpg 0xffffffff81000000'],
    [invpcidFlushOne(0x802, va('0x400000')), 'invpcid type=0 (individual-address) pcid=0x802 addr=0x0000000000400000'],
    [invpcid(0, 1), 'invpcid type=0 (individual-address) pcid=0x1 addr=?'],
    [invpcidFlushSingleContext(0x802), 'invpcid type=1 (single-context) pcid=0x802'],
    [invpcidFlushAll(), 'invpcid type=2 (all-context incl. globals)'],
    [invpcidFlushAllNonglobals(), 'invpcid type=3 (all-context)'],
    [setPte(0x10_0000, 511, 0, pte(0x20_3000, { RW: true, A: true, D: true })), 'set_pgd pgd(mm 3)[511] = 0x203063 (RW x pgd table pa=0x203000)'],
    [setPte(0x20_5000, 8, 2, pte(0x100_0000, { PS: true, G: true, A: true, D: true })), 'set_pmd pa:205000[8] = 0x10001e1 (ro PSE GLB x pmd pa=0x1000000)'],
    [first(access('uread', va('0x400000'), 'buf')), 'copy_from_user 0x0000000000400000 (buf)'],
    [first(access('uwrite', va('0x400000'), 'buf')), 'copy_to_user 0x0000000000400000 (buf)'],
    [first(access('fetch', KTEXT, 'entry_SYSCALL_64')), 'fetch 0xffffffff81000000 (entry_SYSCALL_64)'],
    [exception('syscall', 'getpid'), 'syscall (getpid)'],
    [exception('nmi', 'perf'), 'exception: NMI (perf)'],
    [sysret(), 'sysretq'],
    [iret(), 'iretq'],
    [iret(va('0xfffffe8000000000')), 'iretq (SS from the LDT at 0xfffffe8000000000)'],
    [first(access('iread', va('0xfffffe8000000000'), 'LDT descriptor')), 'implicit read 0xfffffe8000000000 (LDT descriptor)'],
    [lgdt(va('0xfffffe0000001000')), 'lgdt 0xfffffe0000001000'],
    [cli(), 'cli'],
    [sti(), 'sti'],
    [wrmsr('LSTAR', vaBig(KTEXT)), 'wrmsr MSR_LSTAR = 0xffffffff81000000'],
    [lidt(va('0xfffffe0000000000'), { irq: KTEXT, nmi: KTEXT + 0x40, fault: KTEXT + 0x80 }),
      'lidt 0xfffffe0000000000 (irq 0xffffffff81000000, nmi 0xffffffff81000040, fault 0xffffffff81000080)'],
    [ltr(va('0xfffffe0000002000'), va('0xfffffe0000002000'), va('0xfffffe0000004000')),
      'ltr 0xfffffe0000002000 (sp0 0xfffffe0000002000, nmi ist 0xfffffe0000004000)'],
    [ipi(1), 'send IPI to cpu1'],
    [{ op: 'user', kind: 'store', va: va('0x400000') }, 'CPL3 store 0x0000000000400000'],
    [note('switch_mm_irqs_off'), '// switch_mm_irqs_off'],
    [hint('tlb-maintained'), '// ghost: kernel path returns (tlb-maintained)'],
    [lock('mmap_lock'), 'spin_lock(mmap_lock)'],
    [unlock('mmap_lock'), 'spin_unlock(mmap_lock)'],
    [wait('cpu1 acked', () => true), 'wait until cpu1 acked'],
  ])('%o prints as %s', (op, text) => { expect(mnemonic(op, ctx)).toBe(text); });

  it('hooks receive what the machine returns', () => {
    const h = readCr3();
    h.next();
    expect(h.next(0x1234n)).toEqual({ done: true, value: 0x1234n });
    const a = access('read', 0, 'x');
    a.next();
    expect(a.next({ pa: 0x5000 })).toEqual({ done: true, value: { pa: 0x5000 } });
  });
});

describe('trace', () => {
  it('classes ops for cost reports: INVPCID by type, MOV to CR3 by NOFLUSH', () => {
    expect([invpcidFlushSingleContext(2), movCr3(cr3Value(0x10_0000, 2)), movCr3(cr3Value(0x10_0000, 2, true)), sti()].map(opClass))
      .toEqual(['invpcid type=1', 'mov-cr3', 'mov-cr3 noflush', 'sti']);
  });

  it('prints what an op gave back', () => {
    expect(opText(first(readCr3()), cr3Value(0x10_1000, 0x802), ctx)).toBe('mov %cr3, %rax -> (pgd(mm 3)+user, pcid=0x802)');
    expect(opText(first(readCr4()), X86_CR4_PGE, ctx)).toBe('mov %cr4, %rax -> (0x80: PGE)');
    expect(opText(first(readCr3()), undefined, ctx)).toBe('mov %cr3, %rax');
    expect(opText(first(access('read', KTEXT, 'x')), { pa: 0x1000 }, ctx)).toBe('read 0xffffffff81000000 (x) -> pa 0x1000');
    expect(opText({ op: 'user', kind: 'load', va: 0 }, { fault: 'permission' }, ctx)).toBe('CPL3 load 0x0000000000000000 -> permission fault');
    expect(opText(exception('irq', 't'), undefined, ctx)).toBe('exception: IRQ (t)');
    expect(opText(cli(), undefined, ctx)).toBe('cli');
  });
});
