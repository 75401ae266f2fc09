// x86 global pages (issue 4, DESIGN.md "Later"): a global TLB entry (G = 1
// with CR4.PGE, SDM §4.10.2.4) matches every PCID and survives every CR3
// switch, so user mode can use it whatever the mitigation loads. It may
// therefore only map frames of the declared user-shared set. Checked when
// a fill adds a global entry; the user-shared set may never hold
// `kernel-secret` or `page-table` frames.

import { vaHex } from '../../model/arch/va.ts';
import { describe } from '../../model/arch/x86/pte.ts';
import { entrySize } from '../../model/arch/x86/tlb.ts';
import { forbiddenMemo, sharedSetHolds } from './frames.ts';
import { violation, type Invariant } from './types.ts';

export const x86Global: Invariant = {
  id: 'x86-global',
  initial: (k) => sharedSetHolds(k.view, 'x86-global'),
  check(k, step) {
    if (k.arch !== 'x86') return undefined;
    const v = k.view;
    for (const e of step.effects) {
      if (e.kind !== 'fill' || !('global' in e.entry) || !e.entry.global) continue;
      const shared = v.userShared(), entry = e.entry;
      const bad = forbiddenMemo(v, entry.pa, entrySize(entry), 'shared', (pa) => shared.has(pa));
      if (!bad) continue;
      return violation('x86-global', 'a global TLB entry maps a frame outside the user-shared set', {
        cpu: e.cpu, va: vaHex(entry.vaBase + (bad.pa - entry.pa)), pa: `0x${bad.pa.toString(16)}`, label: bad.label,
        frame: v.frameName(bad.pa), entry: describe(entry.leaf, entry.level), from: entry.owner,
      });
    }
    return undefined;
  },
};
