// Tests for x86 op validation (validate.ts): malformed ops are bad input, well-formed ones pass.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { va } from '../va.ts';
import { access, cli, exception, invlpg, invpcid, ipi, iret, lgdt, lidt, ltr, movCr3, movCr4, note, setPte, wrmsr, type X86Op } from './ops.ts';
import { mayBeTable, NOT_PRESENT, pte, type X86Pte } from './pte.ts';
import { invalidOp } from './validate.ts';

const mem = new PhysMem<X86Pte>(0x10_0000, 0x10_0000, mayBeTable);
mem.claim(0x10_0000, 'page-table', 'pgd', true);
const first = (h: Generator<X86Op, unknown, unknown>): X86Op => h.next().value as X86Op;

describe('invalidOp', () => {
  it.each<[string, X86Op]>([
    ['set-pte', setPte(0x10_0000, 511, 0, pte(0x20_0000, { RW: true }))],
    ['set-pte clear', setPte(0x10_0000, 0, 0, NOT_PRESENT)],
    ['mov-cr3', movCr3((1n << 63n) | 0x10_0802n)],
    ['mov-cr4', movCr4(0x200a0n)],
    ['invlpg', invlpg(va('0xffffffff81000000'))],
    ['invpcid 0', invpcid(0, 0x802, va('0x400000'))],
    ['invpcid 2', invpcid(2, 0)],
    ['access', first(access('uwrite', va('0x400000'), 'buf'))],
    ['exception', exception('nmi', 'perf')],
    ['wrmsr', wrmsr('LSTAR', 0xffffffff81000000n)],
    ['lgdt', lgdt(0)],
    ['iret to an LDT stack segment', iret(va('0xfffffe8000000000'))],
    ['lidt', lidt(0, { irq: 1, nmi: 2, fault: 3 })],
    ['ltr', ltr(0, 1, 2)],
    ['ipi', ipi(3)],
    ['cli', cli()],
    ['note', note('x')],
    ['read-cr3', { op: 'read-cr3' }],
  ])('accepts %s', (_name, op) => { expect(invalidOp(op, mem)).toBeUndefined(); });

  it.each<[unknown, RegExp]>([
    [42, /not an op/],
    [{ op: 'user', kind: 'load', va: -1 }, /va out of range/],
    [setPte(0x10_0000, 512, 0, NOT_PRESENT), /index 512/],
    [setPte(0x10_0000, 0, 4, NOT_PRESENT), /level 4/],
    [setPte(0x20_0000, 0, 0, NOT_PRESENT), /not a paging structure/],
    [setPte(0x10_0000, 0, 0, { ...NOT_PRESENT, addr: 0x1001 }), /decoded entry/],
    [{ op: 'set-pte', table: 0x10_0000, index: 0, level: 0, pte: { kind: 'table', addr: 0 } }, /decoded entry/],
    [movCr3(-1n), /64-bit bigint/],
    [{ op: 'mov-cr4', value: 5 }, /64-bit bigint/],
    [{ op: 'wrmsr', msr: 'STAR', value: 0n }, /unknown MSR/],
    [{ op: 'wrmsr', msr: 'LSTAR', value: 1n << 64n }, /64-bit bigint/],
    [invlpg(2 ** 49), /va out of range/],
    [{ op: 'invpcid', type: 4, pcid: 0 }, /unknown type/],
    [invpcid(0, 1), /needs a va/],
    [invpcid(1, 1, -5), /va out of range/],
    [{ op: 'access', kind: 'ldr', va: 0, sym: 'x' }, /unknown kind/],
    [{ op: 'access', kind: 'read', va: 0.5, sym: 'x' }, /va out of range/],
    [{ op: 'exception', type: 'sync', reason: 'x' }, /unknown type/],
    [{ op: 'lidt', base: 0 }, /lidt/],
    [{ op: 'lgdt' }, /lgdt/],
    [{ op: 'iret', ss: -8 }, /iret/],
    [{ op: 'ltr', tss: 0, sp0: 1 }, /ltr/],
    [ipi(-1), /bad target/],
    [{ op: 'mrs', reg: 'TTBR0_EL1' }, /unknown op mrs/],
  ])('rejects %o', (op, why) => { expect(invalidOp(op, mem)).toMatch(why); });
});
