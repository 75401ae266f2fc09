// Good/bad fixture pairs for the architecture rules the invariants rest on,
// in the manner of Casemate's good_bbm.c / bad_bbm_missing_tlbi.c: each bad
// fixture is its good twin with one step missing or changed, and must reach
// a forbidden outcome in some execution; the good twin must reach none in
// any. Covered: break-before-make, walk caches (VAE1 vs VALE1 on a table
// entry, ASIDE1, VAAE1), TLBI scope (local vs IS), DSB completion and
// domain, system-register synchronisation, table-store visibility, and a
// walk-cache/TLB conflict only `tlb-conflict` judges.

import { INVALID, tableDesc, type Descriptor } from '../../model/arch/arm64/descriptor.ts';
import { dsb, isb, msr, tlbi, type Op } from '../../model/arch/arm64/ops.ts';
import { ttbr } from '../../model/arch/arm64/sysreg.ts';
import { page, type Scenario } from './scenario.ts';
import { block, load, onBlock, onPage, scenario, st, tableSwap, tlbiX, X } from './worlds.ts';

export interface FixturePair {
  readonly name: string;
  /** The Arm ARM rule it pins down. */
  readonly rule: string;
  readonly good: Scenario;
  readonly bad: Scenario;
  /** What the bad fixture can do and the good one never does. */
  readonly forbidden: (outcome: string) => boolean;
}

const isViolation = (o: string): boolean => o.startsWith('violation');
const bbmThen = (p: Parameters<typeof st>[0], inval: Op, next: Descriptor, last: Op[] = []): Op[] =>
  [st(p, INVALID), dsb('ishst'), inval, dsb('ish'), st(p, next), ...last];

export const FIXTURES: FixturePair[] = [
  {
    name: 'bbm-missing-tlbi', rule: 'R_DDMVT step 3', forbidden: isViolation,
    good: onPage('good_bbm', 'invalid, DSB, TLBI VAE1IS, DSB, new output address, DSB', (p, f) => bbmThen(p, tlbiX('VAE1'), page(f.b), [dsb('ishst')])),
    bad: onPage('bad_bbm_missing_tlbi', 'invalid, DSB, new output address: both CPUs may still cache the old one', (p, f) => [st(p, INVALID), dsb('ishst'), st(p, page(f.b)), dsb('ishst')]),
  },
  {
    name: 'bbm-valid-to-valid', rule: 'R_WHZWS (output address; permission changes need no break)', forbidden: isViolation,
    good: onPage('good_mprotect_ro_in_place', 'RW to read-only in place, then TLBI VALE1IS (mprotect, flush_tlb_page)', (p, f) => [st(p, page(f.a, { AP: 3 })), dsb('ishst'), tlbiX('VALE1'), dsb('ish')]),
    bad: onPage('bad_remap_in_place', 'another frame in place, then TLBI VALE1IS', (p, f) => [st(p, page(f.b)), dsb('ishst'), tlbiX('VALE1'), dsb('ish')]),
  },
  {
    name: 'bbm-dsb-after-invalid', rule: 'R_DDMVT step 2', forbidden: isViolation,
    good: onPage('good_kernel_bbm_vaae1', 'a global entry: invalid, DSB, TLBI VAAE1IS, DSB, new entry', (p, f) => bbmThen(p, tlbi('VAAE1', true, { va: X }), page(f.b, { nG: false })), { nG: false }),
    bad: onPage('bad_kernel_bbm_no_dsb_after_invalid', 'no DSB before the TLBI: a walk still sees the old entry and refills it', (p, f) => [st(p, INVALID), tlbi('VAAE1', true, { va: X }), dsb('ish'), st(p, page(f.b, { nG: false }))], { nG: false }),
  },
  {
    name: 'dsb-tlbi-completion', rule: 'R_DDMVT step 4, R_YNJCP', forbidden: isViolation,
    good: onBlock('good_block_bbm', 'a 2 MiB block remapped: the DSB ISH completes the TLBI before the new block', (p) => bbmThen(p, tlbiX('VAE1'), block(0x4000_0000))),
    bad: onBlock('bad_block_missing_dsb_after_tlbi', 'the new block is written before the broadcast TLBI completes', (p) => [st(p, INVALID), dsb('ishst'), tlbiX('VAE1'), st(p, block(0x4000_0000)), dsb('ish')]),
  },
  {
    name: 'dsb-domain', rule: 'R_PSMWS (DSB NSH completes maintenance for one PE only)', forbidden: isViolation,
    good: onPage('good_flush_tlb_mm_dsb_ish', 'TLBI ASIDE1IS then DSB ISH (flush_tlb_mm), then a new frame', (p, f) => bbmThen(p, tlbi('ASIDE1', true, { asid: 1 }), page(f.b))),
    bad: onPage('bad_flush_tlb_mm_dsb_nsh', 'TLBI ASIDE1IS then DSB NSH: CPU 1 is not guaranteed done', (p, f) => [st(p, INVALID), dsb('ishst'), tlbi('ASIDE1', true, { asid: 1 }), dsb('nsh'), st(p, page(f.b))]),
  },
  {
    name: 'tlbi-scope', rule: 'I_DMCXY (IS: every PE in the Inner Shareable domain)', forbidden: isViolation,
    good: onPage('good_vmalle1is', 'TLBI VMALLE1IS reaches CPU 1', (p, f) => bbmThen(p, tlbi('VMALLE1', true), page(f.b))),
    bad: onPage('bad_vmalle1_local', 'TLBI VMALLE1 (local) leaves CPU 1 caching the old entry', (p, f) => bbmThen(p, tlbi('VMALLE1', false), page(f.b))),
  },
  {
    name: 'ng-direction', rule: 'R_WHZWS (a global entry overlapping non-global ones); pgattr_change_is_safe', forbidden: isViolation,
    good: onPage('good_global_to_ng', 'global to nG in place', (p, f) => [st(p, page(f.a, { nG: true })), dsb('ishst')], { nG: false }),
    bad: onPage('bad_ng_to_global', 'nG to global in place', (p, f) => [st(p, page(f.a, { nG: false })), dsb('ishst')]),
  },
  {
    name: 'walk-cache-last-level', rule: 'I_DMCXY, R_VMSWQ: the L forms reach only final-level entries', forbidden: isViolation,
    good: tableSwap('good_table_change_vae1', 'TLBI VAE1IS retires the old table from the walk cache', tlbiX('VAE1')),
    bad: tableSwap('bad_table_change_vale1', 'TLBI VALE1IS leaves the old table in the walk cache', tlbiX('VALE1')),
  },
  {
    name: 'walk-cache-aside1', rule: 'R_CHVGJ (walk-cache entries are non-global), R_RTVTYQ: ASIDE1 reaches only its ASID', forbidden: isViolation,
    good: tableSwap('good_table_change_aside1', 'TLBI ASIDE1IS for the ASID the tables run under', tlbi('ASIDE1', true, { asid: 1 })),
    bad: tableSwap('bad_table_change_aside1_other_asid', 'TLBI ASIDE1IS for another ASID leaves the walk cache', tlbi('ASIDE1', true, { asid: 2 })),
  },
  {
    name: 'walk-cache-vaae1', rule: 'R_ZSXRQ: VAA reaches every level under every ASID', forbidden: isViolation,
    good: tableSwap('good_table_change_vaae1', 'CPU 1 walks the tables under ASID 2: TLBI VAAE1IS reaches it', tlbi('VAAE1', true, { va: X }), [1, 2]),
    bad: tableSwap('bad_table_change_vae1_one_asid', 'TLBI VAE1IS for ASID 1 leaves CPU 1\'s ASID-2 walk cache', tlbiX('VAE1'), [1, 2]),
  },
  {
    name: 'block-split', rule: 'R_WHZWS (block size change)', forbidden: isViolation,
    good: split('good_split_bbm', 'block to table with the break', true),
    bad: split('bad_split_in_place', 'block to table in place', false),
  },
  {
    name: 'walk-cache-vs-tlb', rule: 'R_WHZWS via a TLB conflict: a reused ASID sees a block where its walk cache has a table',
    forbidden: (o) => o.includes('a walk cache and a TLB disagree'),
    good: asidReuse('good_switch_new_asid', 'switch to other tables with a new ASID', 2),
    bad: asidReuse('bad_switch_reused_asid', 'switch to other tables under the same ASID, no TLBI', 1),
  },
  {
    name: 'msr-needs-isb', rule: 'D24.1: a direct write needs a context synchronization event before an indirect read relies on it',
    forbidden: (o) => o.includes('(A)'),
    good: switchRoot('good_msr_isb', 'MSR TTBR0; ISB; load', true),
    bad: switchRoot('bad_msr_no_isb', 'MSR TTBR0; load: the walk may still use the old root', false),
  },
  {
    name: 'store-needs-dsb', rule: 'R_DDMVT step 6: a new entry is visible to walks after a DSB', forbidden: (o) => o.includes('translation fault'),
    good: newMapping('good_set_pte_dsb', 'store, DSB, ISB, load', true),
    bad: newMapping('bad_set_pte_no_dsb', 'store, load: the walk may not see the new entry yet', false),
  },
];

/** A 2 MiB block around X split into a table of pages, with (good) or without (bad) the break. */
function split(name: string, about: string, brk: boolean): Scenario {
  return scenario(name, about, (w) => {
    const a = w.frame('A');
    w.set(X, block(0x4020_0000), 2);
    const t = w.mem.alloc('page-table', 'L3 (split)', true);
    w.mem.writeEntry(t, 0, page(a), () => false);
    const l2 = w.entry(X, 2), make = [st(l2, tableDesc(t)), dsb('ishst')];
    return { cpus: [brk ? [st(l2, INVALID), dsb('ishst'), tlbiX('VAE1'), dsb('ish'), ...make] : make, [load(1)]] };
  });
}

/** One CPU runs tables B (X in a 2 MiB block, cached) with ASID 1, then switches TTBR0 to tables A (X in a page) with `asid`. */
function asidReuse(name: string, about: string, asid: number): Scenario {
  return scenario(name, about, (w) => {
    w.set(X, page(w.frame('A')));
    const rootB = w.newRoot('pgd B');
    w.set(X, block(0x4020_0000), 2, rootB);
    // Three hardware events: the CPU evicts its L0 and L1 walk-cache entries (from B), then walks X afresh.
    return { cpus: [[msr('TTBR0_EL1', ttbr(w.root, asid)), isb(), load(0)]], ttbr0: [ttbr(rootB, 1)], budget: 3 };
  });
}

/** One CPU switches TTBR0 from the root mapping X to A (ASID 1) to one mapping X to B (ASID 2), then loads X. */
function switchRoot(name: string, about: string, withIsb: boolean): Scenario {
  return scenario(name, about, (w) => {
    w.set(X, page(w.frame('A')));
    const root2 = w.newRoot('pgd2');
    w.set(X, page(w.frame('B')), 3, root2);
    return { cpus: [[msr('TTBR0_EL1', ttbr(root2, 2)), ...(withIsb ? [isb()] : []), load(0)]], prefill: [], ttbr0: [ttbr(w.root, 1)] };
  });
}

/** X is unmapped; one CPU maps it to B and loads it. */
function newMapping(name: string, about: string, barriers: boolean): Scenario {
  return scenario(name, about, (w) => {
    const b = w.frame('B'), p = w.entry(X);
    return { cpus: [[st(p, page(b)), ...(barriers ? [dsb('ishst'), isb()] : []), load(0)]], prefill: [], ttbr0: [ttbr(w.root, 1)] };
  });
}
