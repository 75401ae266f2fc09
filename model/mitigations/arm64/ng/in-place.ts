// A naive nG rewrite, for the broken and safe variants: CPU 0 rewrites
// swapper_pg_dir in place with the MMU on while swapper stays live in every
// CPU's TTBR1 and the other CPUs are not parked (they leave the callback at
// once), then publishes with `dsb ish; tlbi vmalle1is; dsb ish; isb`.
// Global -> nG needs no break (arch/arm64/mm/mmu.c pgattr_change_is_safe), so
// this is safe unless it also changes something that does need one (`split`).
// Simplification: the stores go to the tables' physical addresses rather
// than through their linear-map aliases.

import { dsb, isb, note, str, tlbi, type Hook } from '../../../arch/arm64/ops.ts';
import { tableDesc } from '../../../arch/arm64/descriptor.ts';
import type { Arm64Ctx } from '../types.ts';

function* rewrite(c: Arm64Ctx, table: number, level: number, split: boolean): Hook {
  for (const [index, d] of [...(c.mem.frames.get(table)?.table ?? [])].sort((a, b) => a[0] - b[0])) {
    if (d.kind === 'table') { if (level < 3) yield* rewrite(c, d.NLTA, level + 1, split); continue; }
    if (d.kind === 'invalid' || d.nG) continue;
    if (split && d.kind === 'block' && level === 2) {
      // Split the 2 MiB block into nG pages, writing the table over the live block.
      const t = c.mem.alloc('page-table', 'split L3', true);
      for (let i = 0; i < 512; i++) yield str(t, i, 3, { ...d, kind: 'page', OA: d.OA + i * 4096, nG: true });
      yield dsb('ishst');
      yield str(table, index, level, tableDesc(t));
      continue;
    }
    yield str(table, index, level, { ...d, nG: true });
  }
}

export interface InPlaceKnobs {
  /** Also split the linear map's 2 MiB block into pages, in place. */
  readonly split: boolean;
  /** `tlbi vmalle1is` (true) or the local `tlbi vmalle1`. */
  readonly broadcast: boolean;
  /** The `dsb ish` that completes it before stop_machine lets the others go. */
  readonly finalDsb: boolean;
}

export const SAFE_IN_PLACE: InPlaceKnobs = { split: false, broadcast: true, finalDsb: true };

export function* kptiInstallNgInPlace(c: Arm64Ctx, k: InPlaceKnobs): Hook {
  if (c.boot.ngMappings || c.cpu !== 0) return;
  yield note('rewriting swapper_pg_dir in place, MMU on, other CPUs running');
  yield* rewrite(c, c.sym.swapper_pg_dir.pa, 0, k.split);
  yield dsb('ish');
  yield tlbi('VMALLE1', k.broadcast);
  if (k.finalDsb) yield dsb('ish');
  yield isb();
  c.boot.ngMappings = true;
}

