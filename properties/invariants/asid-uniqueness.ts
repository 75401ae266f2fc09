// ASID uniqueness: no two live mms ever share a usable TLB tag on one CPU.
// Compare Catalin Marinas' specs: `UniqueASIDPerCPU` (asidalloc.tla: two
// entries on one CPU from different tasks have different ASIDs),
// `UniqueASID`/`BaddrASIDMatch` (arm64kpti.tla: an entry's ASID belongs to
// the mm whose tables it came from) and `SameASIDActiveTask`. Owners are the
// ghost names of the tables an entry was walked from; kernel tables
// (swapper, trampoline) are shared by every mm and exempt. Entries left by an
// mm that exited still count: its ASID stays allocated until a rollover,
// whose pending flush must remove them before the ASID is used again.

import { vaHex } from '../../model/arch/va.ts';
import type { Arm64Kernel } from '../../model/kernel/arm64/kernel.ts';
import { violation, type Invariant, type Violation } from './types.ts';

/** Entries from user page tables carry the name of an mm's pgd. */
const isUser = (owner: string): boolean => owner.startsWith('pgd(mm ');

/** `BaddrASIDMatch`: with a user pgd live in TTBR0, every user entry usable under the current ASID is from that pgd. */
function usableTagOwner(k: Arm64Kernel, c: number): Violation | undefined {
  const cpu = k.machine.cpus[c];
  const live = k.machine.mem.frame(cpu.params.ttbr0.BADDR)?.name ?? '';
  if (!isUser(live)) return undefined;
  const asid = cpu.params.asid;
  const bad = cpu.tlb.entries().find((e) => e.asid === asid && isUser(e.owner) && e.owner !== live);
  if (!bad) return undefined;
  return violation('asid-uniqueness', 'current ASID tags another mm\'s entry', { cpu: c, asid, live, entry: `${bad.owner} at ${vaHex(bad.vaBase)}` });
}

export const asidUniqueness: Invariant = {
  id: 'asid-uniqueness',
  check(k, step) {
    for (const e of step.effects) {
      if (e.kind !== 'fill' || e.entry.asid === undefined || !isUser(e.entry.owner)) continue;
      const clash = k.machine.cpus[e.cpu].tlb.entries().find((x) => x.asid === e.entry.asid && isUser(x.owner) && x.owner !== e.entry.owner);
      if (clash) {
        return violation('asid-uniqueness', 'one ASID tags two mms on one CPU', {
          cpu: e.cpu, asid: e.entry.asid, va: vaHex(e.entry.vaBase), new: e.entry.owner, old: `${clash.owner} at ${vaHex(clash.vaBase)}`,
        });
      }
    }
    const seen = new Map<number, { cpu: number; asid: number }>();
    for (let c = 0; c < k.machine.cpus.length; c++) {
      const v = usableTagOwner(k, c);
      if (v) return v;
      const cpu = k.machine.cpus[c], t = k.running[c];
      if (cpu.EL !== 0 || !t) continue;
      const other = seen.get(t.mm.id);
      if (other && other.asid !== cpu.params.asid) {
        return violation('asid-uniqueness', 'one mm runs with two ASIDs', { mm: t.mm.id, cpu: c, asid: cpu.params.asid, otherCpu: other.cpu, otherAsid: other.asid });
      }
      seen.set(t.mm.id, { cpu: c, asid: cpu.params.asid });
    }
    return undefined;
  },
};
