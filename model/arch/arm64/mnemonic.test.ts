// Tests for mnemonic (mnemonic.ts): ops print as the kernel developer reads them.
import { describe, expect, it } from 'vitest';
import { va, vaBig } from '../va.ts';
import { mnemonic, type MnemonicCtx } from './mnemonic.ts';
import { dsb, eret, isb, msr, tlbi, type Op } from './ops.ts';
import { ttbr } from './sysreg.ts';

const ctx: MnemonicCtx = { name: (pa) => (pa === 0x4000_0000 ? 'swapper_pg_dir' : `pa:${pa.toString(16)}`), asidBits: 8 };

describe('mnemonic', () => {
  it.each<[Op, string]>([
    [tlbi('ASIDE1', true, { asid: 3 }), 'TLBI ASIDE1IS asid=3'],
    [tlbi('VAE1', false, { va: va('0xffff000008080000'), asid: 2 }), 'TLBI VAE1 va=0xffff000008080000 asid=2'],
    [tlbi('VMALLE1', true), 'TLBI VMALLE1IS'],
    [msr('TTBR1_EL1', ttbr(0x4000_0000, 2)), 'MSR TTBR1_EL1 base=swapper_pg_dir asid=2'],
    [msr('TTBR0_EL1', ttbr(0x4000_3000, 0)), 'MSR TTBR0_EL1 base=pa:40003000 asid=0'],
    [msr('VBAR_EL1', vaBig(va('0xffff000008010800'))), 'MSR VBAR_EL1 0xffff000008010800'],
    [msr('TCR_EL1', 1n << 22n), 'MSR TCR_EL1 0x400000'],
    [dsb('ish'), 'DSB ISH'],
    [dsb('nshst'), 'DSB NSHST'],
    [isb(), 'ISB'],
    [eret(), 'ERET'],
    [{ op: 'mrs', reg: 'TTBR0_EL1' }, 'MRS TTBR0_EL1'],
    [{ op: 'user', kind: 'load', va: va('0x400000') }, 'EL0 load 0x0000000000400000'],
  ])('%o prints as %s', (op, text) => { expect(mnemonic(op, ctx)).toBe(text); });

  it('prints ASIDs modulo 2^asidBits, as the hardware uses them', () => {
    const narrow: MnemonicCtx = { ...ctx, asidBits: 4 };
    expect(mnemonic(tlbi('ASIDE1', true, { asid: 0x13 }), narrow)).toBe('TLBI ASIDE1IS asid=3');
    expect(mnemonic(msr('TTBR1_EL1', ttbr(0x4000_0000, 0x12)), narrow)).toBe('MSR TTBR1_EL1 base=swapper_pg_dir asid=2');
  });
});
