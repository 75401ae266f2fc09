// Stale TLB, every tag of the mm (DESIGN.md): once the kernel path that
// unmapped or changed a user translation returns, no CPU's TLB holds an
// entry under any tag of that mm (arm64: kernel and user ASID; x86: kernel
// and user PCID) that still gives the old translation: another frame, or
// more permission than the page tables now grant. A tag the CPU will flush
// before it can use it again (a deferred flush, as x86's
// `user_pcid_flush_mask`) does not count. Checked at the kernel's
// `tlb-maintained` hint.

import { vaHex } from '../../model/arch/va.ts';
import { violation, type Invariant } from './types.ts';

export const staleTlb: Invariant = {
  id: 'stale-tlb',
  check(k, step) {
    if (step.op?.op !== 'hint' || step.op.hint !== 'tlb-maintained') return undefined;
    const v = k.view;
    for (const { mm, va } of v.changes(step.cpu)) {
      const read = v.ideal(mm, va, false, 'software'), write = v.ideal(mm, va, true, 'software');
      for (let cpu = 0; cpu < v.ncpus; cpu++) {
        for (const t of v.tagsOf(mm, cpu)) {
          if (t.flushPending) continue;
          for (const e of v.lookup(cpu, va, t.tag)) {
            const pa = e.pa + (va - e.vaBase - ((va - e.vaBase) % 4096));
            const stale = read.fault !== undefined || pa !== read.pa || (e.write && write.fault !== undefined) || (e.user && read.fault === 'permission');
            if (stale) {
              return violation('stale-tlb', 'stale TLB entry after the kernel path returned', {
                cpu, mm: mm.id, va: vaHex(va), tag: e.tag ?? 'global', kind: t.kind,
                cached: `0x${pa.toString(16)}${e.write ? ' RW' : ' ro'}`,
                now: read.fault === 'translation' ? 'unmapped' : `0x${(read.pa ?? 0).toString(16)}${write.fault ? ' ro' : ' RW'}`,
              });
            }
          }
        }
      }
    }
    return undefined;
  },
};
