// The per-mm LDT (ldt.ts, lib/ldt.ts; x86-pti.md §6b): `write_ldt` maps
// each new LDT in the other slot and, since a0e6e0831c51, unmaps the old
// one before its page is freed; fork's `ldt_dup_context` gives the child its
// own copy in slot 0. Without PTI nothing is mapped at LDT_BASE_ADDR.
import { describe, expect, it } from 'vitest';
import type { VA } from '../../arch/va.ts';
import { NOT_PRESENT } from '../../arch/x86/pte.ts';
import { walk } from '../../arch/x86/walk.ts';
import { simulate } from '../../../properties/runner/simulate.ts';
import { mitigation as ldtStillMapped } from '../../mitigations/x86/broken/ldt-free-still-mapped.ts';
import { mitigation as nopti } from '../../mitigations/x86/nopti.ts';
import { mitigation as ptiPcid } from '../../mitigations/x86/pti-pcid.ts';
import type { X86Mitigation } from '../../mitigations/x86/types.ts';
import type { Event, Syscall } from '../events.ts';
import type { X86Kernel } from './kernel.ts';
import { ldtSlotVa } from './ldt.ts';
import { PTI_USER_PGD_OFFSET } from './pgtable.ts';

const sys = (nr: Syscall): Event => ({ k: 'syscall', cpu: 0, nr, slot: 0, prot: 'rw', task: 0 });
/** Run the workload; the kernel as it left it, with CPU 0's mm. */
function run(m: X86Mitigation, events: Event[]) {
  const k = simulate(events, m, { invariants: [] }).kernel as X86Kernel;
  const mm = k.running[0]!.mm;
  const walkFrom = (root: number, v: VA) => walk((t, i) => k.mem.readEntry(t, i) ?? NOT_PRESENT, root, v);
  return { k, mm, walkFrom };
}

describe('write_ldt', () => {
  it('maps the new LDT read-only, non-global, in the other slot of both copies, and unmaps the old one before freeing it', () => {
    const { k, mm, walkFrom } = run(ptiPcid, [sys('modify_ldt'), sys('modify_ldt')]);
    const ldt = k.ldts.get(mm)!;
    expect(ldt.slot).toBe(1);
    expect(k.mem.label(ldt.pa)).toBe(`user(${k.running[0]!.tgid})`);
    for (const root of [mm.pgd, mm.pgd + PTI_USER_PGD_OFFSET]) {
      const r = walkFrom(root, ldtSlotVa(1));
      expect(r).toMatchObject({ kind: 'ok', pa: ldt.pa, perms: { write: false, user: false } });
      expect(r.kind === 'ok' && r.leaf.G).toBe(false);
      expect(walkFrom(root, ldtSlotVa(0))).toMatchObject({ kind: 'fault', reason: 'not-present' });
    }
  });

  it('4.15 to 4.19 (x86/broken/ldt-free-still-mapped): the user copy still maps the freed page, whoever owns it now', () => {
    const { k, mm, walkFrom } = run(ldtStillMapped, [sys('modify_ldt'), sys('modify_ldt')]);
    const r = walkFrom(mm.pgd + PTI_USER_PGD_OFFSET, ldtSlotVa(0));
    expect(r.kind).toBe('ok');
    // Freed, then (in this run) reused by the allocator: the frame is no longer the mm's LDT.
    const frame = r.kind === 'ok' ? k.mem.frame(r.pa) : undefined;
    expect(frame?.name ?? 'free').not.toMatch(/^ldt/);
    expect(frame?.label ?? 'free').not.toBe(`user(${k.running[0]!.tgid})`);
  });

  it('without PTI maps nothing at LDT_BASE_ADDR (the LDT is reached through the direct map)', () => {
    const { k, mm, walkFrom } = run(nopti, [sys('modify_ldt')]);
    expect(k.ldts.get(mm)).toBeDefined();
    expect(walkFrom(mm.pgd, ldtSlotVa(0))).toMatchObject({ kind: 'fault', reason: 'not-present' });
  });
});

describe('ldt_dup_context', () => {
  it('gives a forked child its own copy of the LDT, in slot 0 of its own tables', () => {
    const { k, mm, walkFrom } = run(ptiPcid, [sys('modify_ldt'), sys('modify_ldt'), sys('fork')]);
    const children = [...k.ldts.keys()].filter((m) => m !== mm);
    expect(children).toHaveLength(1);
    const child = children[0], ldt = k.ldts.get(child)!;
    expect(ldt.slot).toBe(0);
    expect(ldt.pa).not.toBe(k.ldts.get(mm)!.pa);
    expect(walkFrom(child.pgd + PTI_USER_PGD_OFFSET, ldtSlotVa(0))).toMatchObject({ kind: 'ok', pa: ldt.pa });
  });

  it('a parent without an LDT forks a child without one', () => {
    const { k } = run(ptiPcid, [sys('fork')]);
    expect(k.ldts.size).toBe(0);
  });
});
