// The local flush primitives of arch/x86/include/asm/tlbflush.h (PTI era;
// docs/sources/x86-pti.md §4a): what each yields and what it marks in
// `cpu_tlbstate`, with and without PTI, PCID and INVPCID. The loaded ASID
// is 2: kPCID 3, uPCID 0x803.
import { describe, expect, it } from 'vitest';
import { va } from '../../../arch/va.ts';
import { X86_CR4_PCIDE, X86_CR4_PGE } from '../../../arch/x86/cpu.ts';
import { invlpg, invpcidFlushAll, invpcidFlushOne, movCr3, movCr4, type Hook, type X86Op } from '../../../arch/x86/ops.ts';
import { DEFAULT_OPTIONS, X86Kernel } from '../../../kernel/x86/kernel.ts';
import { TlbState } from '../../../kernel/x86/tlbstate.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx } from '../types.ts';
import { flushTlbOneKernel, invalidateUserAsid, nativeFlushTlb, nativeFlushTlbGlobal, nativeFlushTlbOneUser } from './tlbflush.ts';

const ADDR = va('0x401000');
const KERNEL_CR3 = 0x1234003n, CR4 = X86_CR4_PGE | X86_CR4_PCIDE;
const base = new X86Kernel(ptiPcid, DEFAULT_OPTIONS).ctx(0);
/** A context as X86Kernel.ctx builds it (on an unbooted kernel), with the configuration under test and ASID 2 loaded. */
function ctx(o: { pcid?: boolean; invpcid?: boolean; pti?: boolean } = {}): X86Ctx {
  const tlbstate = new TlbState();
  tlbstate.loaded_mm_asid = 2;
  return { ...base, pti: o.pti ?? true, opts: { ...DEFAULT_OPTIONS, pcid: o.pcid ?? true, invpcid: o.invpcid ?? true }, tlbstate };
}

/** Every op `h` yields except notes, answering CR3 and CR4 reads. */
function ops(h: Hook): X86Op[] {
  const out: X86Op[] = [];
  for (let r = h.next(); !r.done; ) {
    if (r.value.op !== 'note') out.push(r.value);
    r = h.next(r.value.op === 'read-cr3' ? KERNEL_CR3 : r.value.op === 'read-cr4' ? CR4 : undefined);
  }
  return out;
}

describe('invalidate_user_asid', () => {
  it('sets bit kPCID(asid) of user_pcid_flush_mask under PTI with PCID', () => {
    const c = ctx();
    expect(ops(invalidateUserAsid(c, 4))).toEqual([]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(1 << 5);
  });

  it.each([{ pcid: false }, { pti: false }])('does nothing with %o', (o) => {
    const c = ctx(o);
    expect([...invalidateUserAsid(c, 4)]).toEqual([]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(0);
  });
});

describe('__native_flush_tlb', () => {
  it('marks the loaded user PCID and rewrites CR3 as read (no NOFLUSH: the kernel PCID goes)', () => {
    const c = ctx();
    expect(ops(nativeFlushTlb(c))).toEqual([{ op: 'read-cr3' }, movCr3(KERNEL_CR3)]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(1 << 3);
  });
});

describe('__native_flush_tlb_one_user', () => {
  it('with INVPCID: INVLPG, then INVPCID type 0 on the user PCID', () => {
    const c = ctx();
    expect(ops(nativeFlushTlbOneUser(c, ADDR))).toEqual([invlpg(ADDR), invpcidFlushOne(0x803, ADDR)]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(0);
  });

  it('without INVPCID_SINGLE: INVLPG, and the user PCID is marked for the next SWITCH_TO_USER_CR3', () => {
    const c = ctx({ invpcid: false });
    expect(ops(nativeFlushTlbOneUser(c, ADDR))).toEqual([invlpg(ADDR)]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(1 << 3);
  });

  it('without PTI: INVLPG only', () => {
    const c = ctx({ pti: false });
    expect(ops(nativeFlushTlbOneUser(c, ADDR))).toEqual([invlpg(ADDR)]);
    expect(c.tlbstate.user_pcid_flush_mask).toBe(0);
  });
});

describe('__native_flush_tlb_global', () => {
  it('with INVPCID: type 2 (all PCIDs, globals included)', () => {
    expect(ops(nativeFlushTlbGlobal(ctx()))).toEqual([invpcidFlushAll()]);
  });

  it('without INVPCID: toggles CR4.PGE and restores it', () => {
    expect(ops(nativeFlushTlbGlobal(ctx({ invpcid: false })))).toEqual([{ op: 'read-cr4' }, movCr4(X86_CR4_PCIDE), movCr4(CR4)]);
  });
});

describe('__flush_tlb_one_kernel', () => {
  it('under PTI: the one-user flush, then invalidate_other_asid', () => {
    const c = ctx();
    expect(ops(flushTlbOneKernel(c, ADDR))).toEqual([invlpg(ADDR), invpcidFlushOne(0x803, ADDR)]);
    expect(c.tlbstate.invalidate_other).toBe(true);
  });

  it('without PTI: the one-user flush only (kernel mappings are global)', () => {
    const c = ctx({ pti: false });
    expect(ops(flushTlbOneKernel(c, ADDR))).toEqual([invlpg(ADDR)]);
    expect(c.tlbstate.invalidate_other).toBe(false);
  });

  it('runs the one-user flush it is given (a broken mitigation swaps it)', () => {
    const seen: number[] = [];
    function* oneUser(_c: X86Ctx, a: number): Hook { seen.push(a); }
    const c = ctx();
    expect(ops(flushTlbOneKernel(c, ADDR, oneUser))).toEqual([]);
    expect([seen, c.tlbstate.invalidate_other]).toEqual([[ADDR], true]);
  });
});
