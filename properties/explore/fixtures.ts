// Good/bad fixture pairs for the architecture rules the invariants rest on:
// break-before-make, walk caches, TLBI scope (local vs IS) and DSB
// completion, system-register synchronisation, and table-store visibility.
// Each bad fixture must reach a forbidden outcome in some execution; its good
// twin must reach none in any.

import { dsb, isb, msr, str, tlbi, type Op } from '../../model/arch/arm64/ops.ts';
import { ttbr } from '../../model/arch/arm64/sysreg.ts';
import { INVALID, tableDesc, type Descriptor, type Block } from '../../model/arch/arm64/descriptor.ts';
import type { Machine } from '../../model/arch/arm64/machine.ts';
import { va } from '../../model/arch/va.ts';
import { page, World, type Choice, type Scenario } from './scenario.ts';

export interface FixturePair {
  readonly name: string;
  readonly rule: string;
  readonly good: Scenario;
  readonly bad: Scenario;
  /** What the bad fixture can do and the good one never does. */
  readonly forbidden: (outcome: string) => boolean;
}

const X = va('0x400000');
const isViolation = (o: string): boolean => o.startsWith('violation');
const load = (cpu: number): Op => ({ op: 'access', kind: 'ldr', va: X, sym: `X@cpu${cpu}` });

/** X maps frame A (cached on both CPUs); the writer on CPU 0 runs `ops(ptr, B)`; CPU 1 reads X at the end. */
function remap(name: string, about: string, ops: (p: { table: number; index: number; level: number }, b: number) => Op[], choices: (w: World) => Choice[] = () => []): Scenario {
  const build = () => {
    const w = new World();
    const a = w.frame('A'), b = w.frame('B');
    w.set(X, page(a));
    return { w, b, p: w.entry(X) };
  };
  const shape = build();
  return {
    name, about,
    init: () => { const { w } = build(); return w.machine([X]); },
    cpus: [ops(shape.p, shape.b), [load(1)]],
    choices: choices(shape.w),
  };
}

const st = (p: { table: number; index: number; level: number }, d: Descriptor): Op => str(p.table, p.index, p.level, d);
const bbmGood = (p: { table: number; index: number; level: number }, b: number): Op[] =>
  [st(p, INVALID), dsb('ishst'), tlbi('VAE1', true, { va: X, asid: 1 }), dsb('ish'), st(p, page(b)), dsb('ishst')];

export const FIXTURES: FixturePair[] = [
  {
    name: 'bbm-missing-tlbi', rule: 'R_DDMVT step 3', forbidden: isViolation,
    good: remap('good_bbm', 'invalid, DSB, TLBI VAE1IS, DSB, then the new output address', bbmGood),
    bad: remap('bad_bbm_missing_tlbi', 'invalid, DSB, new output address: both CPUs still cache the old one', (p, b) => [st(p, INVALID), dsb('ishst'), st(p, page(b)), dsb('ishst')]),
  },
  {
    name: 'bbm-no-break', rule: 'R_WHZWS (output address)', forbidden: isViolation,
    good: remap('good_bbm_then_tlbi', 'break first, then make', bbmGood),
    bad: remap('bad_bbm_valid_to_valid', 'a live entry rewritten to another frame, TLBI after', (p, b) => [st(p, page(b)), dsb('ishst'), tlbi('VAE1', true, { va: X, asid: 1 }), dsb('ish')]),
  },
  {
    name: 'bbm-tlbi-not-complete', rule: 'R_DDMVT step 4, R_YNJCP', forbidden: isViolation,
    good: remap('good_bbm_dsb_after_tlbi', 'the DSB after the TLBI completes it before the new entry is written', bbmGood),
    bad: remap('bad_bbm_missing_dsb_after_tlbi', 'the new entry is written before the broadcast TLBI completes', (p, b) => [st(p, INVALID), dsb('ishst'), tlbi('VAE1', true, { va: X, asid: 1 }), st(p, page(b)), dsb('ish')]),
  },
  {
    name: 'bbm-invalid-not-visible', rule: 'R_DDMVT step 2', forbidden: isViolation,
    good: remap('good_bbm_dsb_after_invalid', 'the invalid entry is visible before the TLBI, so no walk can refill the old one', bbmGood, () => [{ k: 'fill', cpu: 1, va: X }]),
    bad: remap('bad_bbm_missing_dsb_after_invalid', 'a walk that still sees the old entry refills it after the TLBI', (p, b) => [st(p, INVALID), tlbi('VAE1', true, { va: X, asid: 1 }), dsb('ish'), st(p, page(b)), dsb('ishst')], () => [{ k: 'fill', cpu: 1, va: X }]),
  },
  {
    name: 'tlbi-scope', rule: 'I_DMCXY (IS: all PEs in the Inner Shareable domain)', forbidden: isViolation,
    good: remap('good_tlbi_is', 'TLBI VAE1IS reaches CPU 1', bbmGood),
    bad: remap('bad_tlbi_local', 'TLBI VAE1 (local) leaves CPU 1 caching the old entry', (p, b) => [st(p, INVALID), dsb('ishst'), tlbi('VAE1', false, { va: X, asid: 1 }), dsb('ish'), st(p, page(b)), dsb('ishst')]),
  },
  {
    name: 'dsb-domain', rule: 'R_PSMWS (NSH completes maintenance for one PE only)', forbidden: isViolation,
    good: remap('good_dsb_ish', 'DSB ISH completes a broadcast TLBI on every PE', bbmGood),
    bad: remap('bad_dsb_nsh', 'DSB NSH after TLBI VAE1IS: CPU 1 is not guaranteed done', (p, b) => [st(p, INVALID), dsb('ishst'), tlbi('VAE1', true, { va: X, asid: 1 }), dsb('nsh'), st(p, page(b)), dsb('ishst')]),
  },
  {
    name: 'ng-direction', rule: 'R_WHZWS (a global entry overlapping non-global ones); pgattr_change_is_safe', forbidden: isViolation,
    good: attrChange('good_global_to_ng', 'global to nG in place is allowed', { nG: false }, { nG: true }),
    bad: attrChange('bad_ng_to_global', 'nG to global in place needs the break', { nG: true }, { nG: false }),
  },
  {
    name: 'permission-vs-address', rule: 'R_WHZWS (permission changes need no break)', forbidden: isViolation,
    good: attrChange('good_rw_to_ro', 'RW to read-only in place (mprotect) is allowed', { AP: 1 }, { AP: 3 }),
    bad: remap('bad_ro_to_other_frame', 'read-only to another frame in place is not', (p, b) => [st(p, page(b, { AP: 3 })), dsb('ishst')]),
  },
  walkCachePair(),
  splitPair(),
  {
    name: 'msr-needs-isb', rule: 'D24.1: a direct write needs a context synchronization event before an indirect read relies on it',
    forbidden: (o) => o.includes(`0x${switchRoot('', '', true).a.toString(16)}`),
    good: switchRoot('good_msr_isb', 'MSR TTBR0; ISB; load', true).scenario,
    bad: switchRoot('bad_msr_no_isb', 'MSR TTBR0; load: the walk may still use the old root', false).scenario,
  },
  {
    name: 'store-needs-dsb', rule: 'R_DDMVT step 6: a new entry is visible to walks after a DSB', forbidden: (o) => o.includes('translation fault'),
    good: newMapping('good_set_pte_dsb', 'store, DSB, ISB, load', true),
    bad: newMapping('bad_set_pte_no_dsb', 'store, load: the walk may not see the new entry yet', false),
  },
];

/** X maps A with `from` attributes; CPU 0 rewrites them to `to` (same frame) with no break. */
function attrChange(name: string, about: string, from: object, to: object): Scenario {
  const build = () => { const w = new World(); const a = w.frame('A'); w.set(X, page(a, from)); return { w, a, p: w.entry(X) }; };
  const s = build();
  return { name, about, init: () => build().w.machine([X]), cpus: [[st(s.p, page(s.a, to)), dsb('ishst')], [load(1)]], choices: [{ k: 'fill', cpu: 1, va: X }] };
}

/** X's L3 table is replaced by another (mapping B) with break-before-make on the L2 entry, by VALE1 (bad) or VAE1 (good). */
function walkCachePair(): FixturePair {
  const make = (name: string, type: 'VAE1' | 'VALE1'): Scenario => {
    const build = () => {
      const w = new World();
      const a = w.frame('A'), b = w.frame('B');
      w.set(X, page(a));
      const t2 = w.mem.alloc('page-table', 'L3 (new)', true);
      w.mem.writeEntry(t2, 0, page(b), () => false);
      return { w, t2, l2: w.entry(X, 2) };
    };
    const s = build();
    return {
      name, about: `${type}IS to retire the old table: ${type === 'VALE1' ? 'the last-level form leaves the walk cache' : 'reaches every level'}`,
      init: () => build().w.machine([X]),
      cpus: [[st(s.l2, INVALID), dsb('ishst'), tlbi(type, true, { va: X, asid: 1 }), dsb('ish'), st(s.l2, tableDesc(s.t2)), dsb('ishst')], [load(1)]],
      choices: [],
    };
  };
  return { name: 'walk-cache-last-level', rule: 'I_DMCXY: L forms apply only to final-level entries', forbidden: isViolation, good: make('good_table_change_vae1', 'VAE1'), bad: make('bad_table_change_vale1', 'VALE1') };
}

/** A 2 MiB block around X split into a table of pages, with (good) or without (bad) the break. */
function splitPair(): FixturePair {
  const make = (name: string, brk: boolean): Scenario => {
    const build = () => {
      const w = new World();
      const a = w.frame('A');
      const blk: Block = { ...page(0x4020_0000), kind: 'block' };
      w.set(X, blk, 2);
      const t = w.mem.alloc('page-table', 'L3 (split)', true);
      w.mem.writeEntry(t, 0, page(a), () => false);
      return { w, t, l2: w.entry(X, 2) };
    };
    const s = build();
    const split = [st(s.l2, tableDesc(s.t)), dsb('ishst')];
    return {
      name, about: brk ? 'block to table with the break' : 'block to table in place',
      init: () => build().w.machine([X]),
      cpus: [brk ? [st(s.l2, INVALID), dsb('ishst'), tlbi('VAE1', true, { va: X, asid: 1 }), dsb('ish'), ...split] : split, [load(1)]],
      choices: [],
    };
  };
  return { name: 'block-split', rule: 'R_WHZWS (block size change)', forbidden: isViolation, good: make('good_split_bbm', true), bad: make('bad_split_in_place', false) };
}

/** CPU 0 switches TTBR0 from a root mapping X to frame `a` to one mapping X to B (new ASID), then loads X. */
function switchRoot(name: string, about: string, withIsb: boolean): { scenario: Scenario; a: number } {
  const build = () => {
    const w = new World();
    const a = w.frame('A'), b = w.frame('B');
    w.set(X, page(a));
    const root2 = w.mem.alloc('page-table', 'pgd2', true);
    const l1 = w.mem.alloc('page-table', 'pgd2 L1', true), l2 = w.mem.alloc('page-table', 'pgd2 L2', true), l3 = w.mem.alloc('page-table', 'pgd2 L3', true);
    const keep = () => false;
    w.mem.writeEntry(root2, 0, tableDesc(l1), keep); w.mem.writeEntry(l1, 0, tableDesc(l2), keep); w.mem.writeEntry(l2, 2, tableDesc(l3), keep);
    w.mem.writeEntry(l3, 0, page(b), keep);
    return { w, root2, a };
  };
  const s = build();
  const scenario: Scenario = {
    name, about, init: () => build().w.machine(),
    cpus: [[msr('TTBR0_EL1', ttbr(s.root2, 2)), ...(withIsb ? [isb()] : []), load(0)]],
    choices: [{ k: 'sync', cpu: 0 }],
  };
  return { scenario, a: s.a };
}

/** X is unmapped; CPU 0 maps it to B and loads it. */
function newMapping(name: string, about: string, barriers: boolean): Scenario {
  const build = () => { const w = new World(); const b = w.frame('B'); const p = w.entry(X); return { w, b, p }; };
  const s = build();
  return {
    name, about, init: (): Machine => build().w.machine(),
    cpus: [[st(s.p, page(s.b)), ...(barriers ? [dsb('ishst'), isb()] : []), load(0)]],
    choices: [{ k: 'drain', cpu: 0 }],
  };
}
