// Stale TLB, both ASIDs (DESIGN.md): once the kernel path that unmapped or
// changed a user translation returns, no CPU's TLB holds an entry under
// either ASID of that mm (kernel ASID, user ASID = kernel | 1) that still
// gives the old translation: a different frame, or more permission than
// the page tables now grant. Checked at the kernel's `tlb-maintained` hint.

import { vaHex } from '../../model/arch/va.ts';
import { hits, entryPa } from '../../model/arch/arm64/tlb.ts';
import { walkFrom } from '../../model/arch/arm64/walk.ts';
import { INVALID } from '../../model/arch/arm64/descriptor.ts';
import { ASID } from '../../model/kernel/task.ts';
import { violation, type Invariant } from './types.ts';

export const staleTlb: Invariant = {
  id: 'stale-tlb',
  check(k, step) {
    if (step.op?.op !== 'hint') return undefined;
    const mask = 2 ** k.opts.asidBits;
    const read = (t: number, i: number) => k.machine.mem.readEntry(t, i) ?? INVALID;
    for (const { mm, va } of k.changes[step.cpu]) {
      const now = walkFrom(read, mm.pgd, va, 0);
      const tags = k.asid.pairs ? [ASID(mm) % mask, (ASID(mm) | 1) % mask] : [ASID(mm) % mask];
      for (const cpu of k.machine.cpus) {
        for (const tag of tags) {
          for (const e of cpu.tlb.lookup(va, tag)) {
            if (!hits(e, va, tag)) continue;
            const stale = now.kind === 'fault' || entryPa(e, va) !== now.pa || (e.perms.write && !now.perms.write) || (e.perms.el0 && !now.perms.el0);
            if (stale) {
              return violation('stale-tlb', 'stale TLB entry after the kernel path returned', {
                cpu: cpu.id, mm: mm.id, va: vaHex(va), asid: e.asid ?? 'global', kind: tag === tags[0] ? 'kernel ASID' : 'user ASID',
                cached: `0x${entryPa(e, va).toString(16)}${e.perms.write ? ' RW' : ' ro'}`,
                now: now.kind === 'fault' ? 'unmapped' : `0x${now.pa.toString(16)}${now.perms.write ? ' RW' : ' ro'}`,
              });
            }
          }
        }
      }
    }
    return undefined;
  },
};
