// The CR3 macros of arch/x86/entry/calling.h (4.15; docs/sources/x86-pti.md
// §3b) on concrete CR3 values. The PGD pair is at 0x1234000 (user copy at
// 0x1235000: bit 12); ASID 2 is kPCID 3 and uPCID 0x803 (bit 11).
import { describe, expect, it } from 'vitest';
import { CR3_NOFLUSH } from '../../../arch/x86/cpu.ts';
import type { Hook, X86Op } from '../../../arch/x86/ops.ts';
import { DEFAULT_OPTIONS, X86Kernel } from '../../../kernel/x86/kernel.ts';
import { TlbState } from '../../../kernel/x86/tlbstate.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx } from '../types.ts';
import { restoreCr3, saveAndSwitchToKernelCr3, switchToKernelCr3, switchToUserCr3 } from './calling.ts';

const NF = CR3_NOFLUSH;
/** With PCID: the kernel CR3 (pgd | kPCID 3) and the user CR3 (pgd + 4096 | bit 11 | kPCID 3). */
const KERNEL = 0x1234003n, USER = 0x1235803n;
/** Without PCID: PCID 0, bit 12 only. */
const KERNEL0 = 0x1234000n, USER0 = 0x1235000n;
/** `user_pcid_flush_mask` bits: kPCID 3 (ours) and kPCID 2 (another ASID's). */
const OURS = 1 << 3, OTHER = 1 << 2;

const base = new X86Kernel(ptiPcid, DEFAULT_OPTIONS).ctx(0);
/** A context as X86Kernel.ctx builds it (on an unbooted kernel), with the configuration under test. */
const ctx = (pcid: boolean, pti = true): X86Ctx => ({ ...base, pti, opts: { ...DEFAULT_OPTIONS, pcid }, tlbstate: new TlbState() });

/** Run `h` against a CR3 register holding `cr3`: answer each `mov %cr3`, record every op and each `mov ..., %cr3` operand. */
function drive<T>(h: Hook<T>, cr3: bigint): { ops: X86Op[]; writes: bigint[]; result: T } {
  const ops: X86Op[] = [], writes: bigint[] = [];
  for (let r = h.next(); ; ) {
    if (r.done) return { ops, writes, result: r.value };
    const op = r.value;
    ops.push(op);
    if (op.op === 'mov-cr3') { writes.push(op.value); cr3 = op.value & ~NF; }
    r = h.next(op.op === 'read-cr3' ? cr3 : undefined);
  }
}

describe('SWITCH_TO_KERNEL_CR3', () => {
  it('with PCID clears bits 11 and 12 and sets NOFLUSH (ADJUST_KERNEL_CR3)', () => {
    const c = ctx(true);
    c.tlbstate.user_pcid_flush_mask = OURS;
    expect(drive(switchToKernelCr3(c), USER).writes).toEqual([KERNEL | NF]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(OURS);
  });

  it('without PCID clears bit 12 only and never sets NOFLUSH', () => {
    expect(drive(switchToKernelCr3(ctx(false)), USER0).writes).toEqual([KERNEL0]);
  });
});

describe('SWITCH_TO_USER_CR3', () => {
  it('sets bits 11 and 12 with NOFLUSH when no flush is pending for the kernel PCID', () => {
    const c = ctx(true);
    c.tlbstate.user_pcid_flush_mask = OTHER;
    expect(drive(switchToUserCr3(c), KERNEL).writes).toEqual([USER | NF]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(OTHER);
  });

  it('leaves NOFLUSH clear and clears the bit (btr) when the kernel PCID is in user_pcid_flush_mask', () => {
    const c = ctx(true);
    c.tlbstate.user_pcid_flush_mask = OURS | OTHER;
    expect(drive(switchToUserCr3(c), KERNEL).writes).toEqual([USER]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(OTHER);
    // The flush is taken once: the next exit keeps the user PCID again.
    expect(drive(switchToUserCr3(c), KERNEL).writes).toEqual([USER | NF]);
  });

  it('without PCID sets bit 12 only and leaves the mask alone (every CR3 write flushes)', () => {
    const c = ctx(false);
    c.tlbstate.user_pcid_flush_mask = 1;
    expect(drive(switchToUserCr3(c), KERNEL0).writes).toEqual([USER0]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(1);
  });
});

describe('SAVE_AND_SWITCH_TO_KERNEL_CR3', () => {
  it('from the user CR3 saves it and switches to the kernel CR3 with NOFLUSH', () => {
    const r = drive(saveAndSwitchToKernelCr3(ctx(true)), USER);
    expect(r.result).toBe(USER);
    expect(r.writes).toEqual([KERNEL | NF]);
  });

  it('from the kernel CR3 (bit 12 clear) saves it and writes nothing', () => {
    const r = drive(saveAndSwitchToKernelCr3(ctx(true)), KERNEL);
    expect(r.result).toBe(KERNEL);
    expect(r.ops).toEqual([{ op: 'read-cr3' }]);
  });

  it('without PCID switches by clearing bit 12 only', () => {
    const r = drive(saveAndSwitchToKernelCr3(ctx(false)), USER0);
    expect([r.result, r.writes]).toEqual([USER0, [KERNEL0]]);
  });
});

describe('RESTORE_CR3', () => {
  it('a saved kernel CR3 always resumes with NOFLUSH, and a pending user flush stays pending', () => {
    const c = ctx(true);
    c.tlbstate.user_pcid_flush_mask = OURS;
    expect(drive(restoreCr3(c, KERNEL), 0n).writes).toEqual([KERNEL | NF]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(OURS);
  });

  it('a saved user CR3 resumes with NOFLUSH unless its PCID has a pending flush, which it takes', () => {
    const c = ctx(true);
    expect(drive(restoreCr3(c, USER), KERNEL).writes).toEqual([USER | NF]);
    c.tlbstate.user_pcid_flush_mask = OURS | OTHER;
    expect(drive(restoreCr3(c, USER), KERNEL).writes).toEqual([USER]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(OTHER);
  });

  it('without PCID writes the saved value back as it is', () => {
    expect(drive(restoreCr3(ctx(false), USER0), KERNEL0).writes).toEqual([USER0]);
    expect(drive(restoreCr3(ctx(false), KERNEL0), KERNEL0).writes).toEqual([KERNEL0]);
  });

  it('with nothing saved writes nothing', () => {
    expect(drive(restoreCr3(ctx(true), undefined), KERNEL).ops).toEqual([]);
  });
});

describe('without X86_FEATURE_PTI every macro jumps over its body', () => {
  it.each([true, false])('pcid %s: no op at all, and the mask is untouched', (pcid) => {
    const c = ctx(pcid, false);
    c.tlbstate.user_pcid_flush_mask = OURS;
    expect(drive(switchToKernelCr3(c), KERNEL).ops).toEqual([]);
    expect(drive(switchToUserCr3(c), KERNEL).ops).toEqual([]);
    expect(drive(saveAndSwitchToKernelCr3(c), USER)).toEqual({ ops: [], writes: [], result: undefined });
    expect(drive(restoreCr3(c, USER), KERNEL).ops).toEqual([]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(OURS);
  });
});
