// TLB conflict (Arm ARM D8.17.1; on x86 the model reports the same, model/arch/x86/tlb.ts): no TLB or walk cache may hold two entries
// that both hit one VA in one context when replacing one by the other would
// have needed break-before-make (model/arch/arm64/bbm.ts): two leaves that
// differ that way, two table descriptors pointing at different tables, or a
// block where a table is cached. Checked when a fill adds an entry, and when
// a lookup finds two entries that give different pages.

import { vaHex } from '../../model/arch/va.ts';
import { describe } from '../../model/arch/arm64/descriptor.ts';
import type { TlbEntry } from '../../model/arch/arm64/tlb.ts';
import type { WalkEntry } from '../../model/arch/arm64/walkcache.ts';
import { describe as describeX86 } from '../../model/arch/x86/pte.ts';
import { tagText, type X86TlbEntry } from '../../model/arch/x86/tlb.ts';
import { violation, type Effect, type Invariant, type Violation } from './types.ts';

const show = (e: TlbEntry | WalkEntry | X86TlbEntry): string =>
  'next' in e ? `L${e.level} table -> 0x${e.next.toString(16)} from ${e.owner}`
    : 'asid' in e ? `${describe(e.leaf)} from ${e.owner}` : `${describeX86(e.leaf, e.level)} from ${e.owner}`;
const tag = (e: TlbEntry | X86TlbEntry): string | number => ('asid' in e ? e.asid ?? 'global' : tagText(e));

/** The conflict verdict on one step's effects. */
export function conflictViolation(effects: readonly Effect[]): Violation | undefined {
  for (const e of effects) {
    if (e.kind === 'access' && new Set(e.outcomes.map((o) => o.pa)).size > 1) {
      return violation('tlb-conflict', 'a lookup hits two TLB entries', {
        cpu: e.cpu, va: vaHex(e.va), access: e.access, entries: e.outcomes.map((o) => o.via ?? 'walk').join(' | '),
      });
    }
    if ((e.kind !== 'fill' && e.kind !== 'walk-fill') || e.conflicts.length === 0) continue;
    const old = e.conflicts[0];
    return violation('tlb-conflict', e.kind === 'fill' && !('next' in old) ? 'two TLB entries hit one VA in one context' : 'a walk cache and a TLB disagree on a table', {
      cpu: e.cpu, va: vaHex(Math.max(old.vaBase, e.entry.vaBase)), tag: tag(e.entry as TlbEntry | X86TlbEntry), old: show(old), new: show(e.entry),
    });
  }
  return undefined;
}

export const tlbConflict: Invariant = { id: 'tlb-conflict', check: (k, step) => conflictViolation(step.effects) };
