// W^X for kernel mappings: no leaf reachable from a kernel root is writable
// and executable at EL1 at once, as Linux's ptdump `note_prot_wx` warns
// ("Found insecure W+X mapping": !PTE_RDONLY && !PTE_PXN, judged on the
// leaf's own bits as ptdump does). Kernel roots: swapper_pg_dir,
// tramp_pg_dir and the ID map, the tables that outlive boot. Excluded: the
// 2022 nG rewrite's temporary fixmap, which IS writable and executable at
// EL1 while live in the boot CPU's TTBR1 (KPTI_NG_PTE_FLAGS = `PTE_ATTRINDX(
// MT_NORMAL) | PTE_TYPE_PAGE | PTE_AF | PTE_SHARED | PTE_UXN | PTE_WRITE`:
// no PTE_PXN, no PTE_RDONLY; arch/arm64/mm/proc.S, docs/sources/
// arm64-ng-rewrite.md §3), because Linux's check_wx (`debug_checkwx` from
// `mark_rodata_ro`, after `kernel_init_freeable` has brought the CPUs up and
// run the rewrite) only ever sees the tables after boot, when the fixmap
// is freed. Checked on the booted tables, then at each store into a
// kernel table.

import { describe, type Descriptor, type Leaf } from '../../model/arch/arm64/descriptor.ts';
import { vaHex } from '../../model/arch/va.ts';
import type { Arm64Kernel } from '../../model/kernel/arm64/kernel.ts';
import { reachable, reachableBelow, tablesFrom } from '../../model/arch/arm64/reach.ts';
import { arm64Effects, violation, type Invariant, type Violation } from './types.ts';

const wx = (d: Descriptor): d is Leaf => (d.kind === 'page' || d.kind === 'block') && (d.AP & 2) === 0 && !d.PXN;

function kernelRoots(k: Arm64Kernel): { pa: number; upper: boolean }[] {
  const s = k.sym, roots = [{ pa: s.swapper_pg_dir.pa, upper: true }];
  if (s.tramp_pg_dir) roots.push({ pa: s.tramp_pg_dir.pa, upper: true });
  if (s.idmap_pg_dir) roots.push({ pa: s.idmap_pg_dir.pa, upper: false });
  return roots;
}

const report = (k: Arm64Kernel, root: number, va: number, leaf: Leaf): Violation => violation('wx', 'kernel mapping is writable and executable', {
  root: k.machine.mem.frame(root)?.name ?? root.toString(16), va: vaHex(va), descriptor: describe(leaf),
});

export const wxInvariant: Invariant = {
  id: 'wx',
  initial(k) {
    if (k.arch !== 'arm64') return undefined;
    for (const r of kernelRoots(k)) {
      const bad = reachable(k.machine, r.pa, r.upper).find((x) => wx(x.leaf));
      if (bad) return report(k, r.pa, bad.vaBase, bad.leaf);
    }
    return undefined;
  },
  check(k, step) {
    if (k.arch !== 'arm64') return undefined;
    for (const e of arm64Effects(step)) {
      if (e.kind !== 'store' || !(wx(e.desc) || e.desc.kind === 'table')) continue;
      for (const r of kernelRoots(k)) {
        const at = tablesFrom(k.machine, r.pa).get(e.table);
        if (!at) continue;
        const va = at.vaBase + e.index * 2 ** (12 + 9 * (3 - at.level));
        if (wx(e.desc)) return report(k, r.pa, va + (r.upper ? 2 ** 48 : 0), e.desc);
        if (e.desc.kind === 'table') {
          const bad = reachableBelow(k.machine, e.desc.NLTA, at.level + 1, va + (r.upper ? 2 ** 48 : 0)).find((x) => wx(x.leaf));
          if (bad) return report(k, r.pa, bad.vaBase, bad.leaf);
        }
      }
    }
    return undefined;
  },
};
