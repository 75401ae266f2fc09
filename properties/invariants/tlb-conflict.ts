// TLB conflict (Arm ARM D8.17.1): no TLB may hold two entries that both hit
// one VA in one context when replacing one by the other would have needed
// break-before-make (model/arch/arm64/bbm.ts). Checked when a fill adds an
// entry, and when a lookup finds two entries that give different pages.

import { vaHex } from '../../model/arch/va.ts';
import { describe } from '../../model/arch/arm64/descriptor.ts';
import { violation, type Invariant } from './types.ts';

export const tlbConflict: Invariant = {
  id: 'tlb-conflict',
  check(k, step) {
    for (const e of step.effects) {
      if (e.kind === 'access' && new Set(e.outcomes.map((o) => o.pa)).size > 1) {
        return violation('tlb-conflict', 'a lookup hits two TLB entries', {
          cpu: e.cpu, va: vaHex(e.va), access: e.access, entries: e.outcomes.map((o) => `${o.entry ? describe(o.entry.leaf) : 'walk'}`).join(' | '),
        });
      }
      if (e.kind !== 'fill' || e.conflicts.length === 0) continue;
      const old = e.conflicts[0];
      return violation('tlb-conflict', 'two TLB entries hit one VA in one context', {
        cpu: e.cpu, va: vaHex(Math.max(old.vaBase, e.entry.vaBase)), asid: e.entry.asid ?? 'global',
        old: `${describe(old.leaf)} from ${old.owner}`, new: `${describe(e.entry.leaf)} from ${e.entry.owner}`,
      });
    }
    return undefined;
  },
};
