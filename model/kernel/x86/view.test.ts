// X86View.tagsOf (view.ts): the PCIDs an mm's translations may sit under on
// a CPU, and which of them the CPU will flush before using again: a slot
// whose tlb_gen is behind the mm's (switch_mm_irqs_off flushes it), a user
// PCID marked in user_pcid_flush_mask (SWITCH_TO_USER_CR3 flushes it), any
// slot but the loaded one while invalidate_other is set.
import { describe, expect, it } from 'vitest';
import type { AnyHook } from '../../arch/ops.ts';
import { bootKernel } from '../../../properties/runner/simulate.ts';
import { mitigation as nopti } from '../../mitigations/x86/nopti.ts';
import { mitigation as ptiNopcid } from '../../mitigations/x86/pti-nopcid.ts';
import { mitigation as ptiPcid } from '../../mitigations/x86/pti-pcid.ts';
import type { X86Mitigation } from '../../mitigations/x86/types.ts';

const K = (tag: number, flushPending = false) => ({ tag, kind: 'kernel PCID', flushPending });
const U = (tag: number, flushPending = false) => ({ tag, kind: 'user PCID', flushPending });

/** A booted kernel and the mm running on CPU 0 (pid 1, ASID 1 there: PCIDs 0x2 and 0x802). */
function booted(m: X86Mitigation = ptiPcid) {
  const k = bootKernel(m);
  return { k, mm: k.running[0]!.mm, ts: k.tlbstate[0] };
}

describe('X86View.tagsOf', () => {
  it('pti-pcid: the kernel and user PCID of each slot holding the mm, none pending after boot; nothing on a CPU without it', () => {
    const { k, mm } = booted();
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2), U(0x802)]);
    expect(k.view.tagsOf(mm, 1)).toEqual([]);
  });

  it('a slot whose tlb_gen is behind the mm: both of its PCIDs are flush-pending', () => {
    const { k, mm } = booted();
    mm.tlbGen++;
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2, true), U(0x802, true)]);
  });

  it('the user PCID marked in user_pcid_flush_mask: only the user PCID is flush-pending', () => {
    const { k, mm, ts } = booted();
    ts.user_pcid_flush_mask = 1 << 2;
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2), U(0x802, true)]);
    ts.user_pcid_flush_mask = 1 << 3; // another ASID's bit
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2), U(0x802)]);
  });

  it('invalidate_other: every slot but the loaded one is flush-pending', () => {
    const { k, mm, ts } = booted();
    ts.ctxs[3] = { ctx_id: mm.ctxId, tlb_gen: mm.tlbGen };
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2), U(0x802), K(0x4), U(0x804)]);
    ts.invalidate_other = true;
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2), U(0x802), K(0x4, true), U(0x804, true)]);
  });

  it('a munmap without INVPCID: tlb_gen behind during the local flush, then only the marked user PCID until the exit flushes it', () => {
    const { k, mm, ts } = booted({ ...ptiPcid, id: 'test/pti-pcid-no-invpcid', options: { ...ptiPcid.options, invpcid: false } });
    const h = k.event({ k: 'syscall', cpu: 0, nr: 'munmap', slot: 1, prot: 'r', task: 0 }) as AnyHook;
    const ops: string[] = [], snapshots: unknown[] = [];
    for (let r = h.next(); !r.done; ) {
      const op = r.value, res = k.exec(0, op);
      // At the mark (inside flush_tlb_func_common), and at the next op (after it has caught ctxs[1].tlb_gen up).
      if (snapshots.length === 1 || (op.op === 'note' && String(op.text).startsWith('invalidate_user_asid(1)'))) snapshots.push(k.view.tagsOf(mm, 0));
      ops.push(op.op);
      r = h.next(res);
    }
    expect(snapshots).toEqual([[K(0x2, true), U(0x802, true)], [K(0x2), U(0x802, true)]]);
    expect([k.view.tagsOf(mm, 0), ts.user_pcid_flush_mask, ops.includes('invpcid')]).toEqual([[K(0x2), U(0x802)], 0, false]);
  });

  it('without PTI: the kernel PCID only', () => {
    const { k, mm } = booted(nopti);
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2)]);
    mm.tlbGen++;
    expect(k.view.tagsOf(mm, 0)).toEqual([K(0x2, true)]);
  });

  it('without PCID: PCID 0 where the mm is loaded, never pending (every CR3 write flushes)', () => {
    const { k, mm } = booted(ptiNopcid);
    mm.tlbGen++;
    expect(k.view.tagsOf(mm, 0)).toEqual([{ tag: 0, kind: 'PCID 0', flushPending: false }]);
    expect(k.view.tagsOf(mm, 1)).toEqual([]);
  });
});
