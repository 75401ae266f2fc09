// After boot (the nG rewrite, seeds/arm64-kpti-ng-mmu-on-ard-biesheuvel-2022.txt):
// once every CPU has left `kpti_install_ng_mappings`, every leaf descriptor
// of swapper_pg_dir is nG and no CPU's TLB holds a global entry for a frame
// outside the user-shared set. Checked at the kernel's `ng-installed` hint;
// EL0 isolation on every CPU afterwards is the el0-isolation invariant.

import { describe } from '../../model/arch/arm64/descriptor.ts';
import { vaHex } from '../../model/arch/va.ts';
import { entrySize } from '../../model/arch/arm64/tlb.ts';
import { reachable } from '../../model/arch/arm64/reach.ts';
import { violation, type Invariant } from './types.ts';

export const ngComplete: Invariant = {
  id: 'ng-complete',
  check(k, step) {
    if (k.arch !== 'arm64') return undefined;
    if (step.op?.op !== 'hint' || step.op.hint !== 'ng-installed') return undefined;
    const mem = k.machine.mem;
    const global = reachable(k.machine, k.sym.swapper_pg_dir.pa, true).find((r) => !r.leaf.nG);
    if (global) return violation('ng-complete', 'a swapper leaf is still global after the rewrite', { va: vaHex(global.vaBase), descriptor: describe(global.leaf) });
    const shared = new Set(k.mitigation.userShared(k.sym));
    for (const cpu of k.machine.cpus) {
      for (const e of cpu.tlb.entries()) {
        if (e.asid !== undefined) continue;
        for (let pa = e.oa; pa < e.oa + entrySize(e); pa += 4096) {
          const label = mem.label(pa);
          if (!shared.has(pa) && !label.startsWith('user(')) {
            return violation('ng-complete', 'a CPU still caches a global kernel entry after the rewrite', {
              cpu: cpu.id, va: vaHex(e.vaBase), from: e.owner, label, descriptor: describe(e.leaf),
            });
          }
        }
      }
    }
    return undefined;
  },
};
