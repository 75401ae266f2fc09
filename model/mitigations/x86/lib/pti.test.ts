// `pti_init` (arch/x86/mm/pti.c; docs/sources/x86-pti.md §2b-2c) on a
// freshly booted image: the user copy of init_top_pgt gets the
// cpu_entry_area and ESPFIX PGD entries and a read-only clone of the entry
// text's PMD, and nothing else of the kernel.
import { describe, expect, it } from 'vitest';
import type { VA } from '../../../arch/va.ts';
import type { Hook, X86Op } from '../../../arch/x86/ops.ts';
import { NOT_PRESENT } from '../../../arch/x86/pte.ts';
import { walk } from '../../../arch/x86/walk.ts';
import { bootImage } from '../../../kernel/x86/image.ts';
import { DEFAULT_OPTIONS, X86Kernel } from '../../../kernel/x86/kernel.ts';
import { CEA, CPU_ENTRY_AREA_RO_IDT, cpuEntryArea, ESPFIX_BASE_ADDR, pgdIndex } from '../../../kernel/x86/layout.ts';
import { PTI_USER_PGD_OFFSET, runAtBoot } from '../../../kernel/x86/pgtable.ts';
import { mitigation as ptiPcid } from '../pti-pcid.ts';
import type { X86Ctx } from '../types.ts';
import { ptiCloneKernelText, ptiInit } from './pti.ts';

const base = new X86Kernel(ptiPcid, DEFAULT_OPTIONS).ctx(0);

/** A booted image and `pti_init` run on it (`globalShared`: 4.17's global entry text). */
function booted(pti: boolean, globalShared: boolean, cloneTextTo?: '__end_rodata_hpage_align' | '_end') {
  const { mem, sym } = bootImage({ pti, globalKernel: !pti, globalShared, kaslr: 0, ncpus: 2 });
  const c: X86Ctx = { ...base, sym, mem, pti };
  const ops: X86Op[] = [];
  runAtBoot(mem, (function* (): Hook {
    for (const op of ptiInit(c, globalShared)) { if (op.op !== 'note') ops.push(op); yield op; }
    if (cloneTextTo) yield* ptiCloneKernelText(c, sym[cloneTextTo].va);
  })());
  const kernel = sym.init_top_pgt.pa, user = kernel + PTI_USER_PGD_OFFSET;
  const pgdSlots = (root: number) => [...mem.frame(root)!.table!.keys()].sort((a, b) => a - b);
  const walkFrom = (root: number, v: VA) => walk((t, i) => mem.readEntry(t, i) ?? NOT_PRESENT, root, v);
  return { mem, sym, ops, kernel, user, pgdSlots, walkFrom };
}

describe('pti_init', () => {
  it('without X86_FEATURE_PTI returns at once', () => {
    expect(booted(false, true).ops).toEqual([]);
  });

  it('copies the cpu_entry_area and ESPFIX PGD entries as they are, sharing the tables below', () => {
    const { mem, kernel, user, pgdSlots } = booted(true, true);
    expect(pgdSlots(user)).toEqual([508, 510, 511]);
    expect([pgdIndex(CPU_ENTRY_AREA_RO_IDT), pgdIndex(ESPFIX_BASE_ADDR)]).toEqual([508, 510]);
    for (const i of [508, 510]) expect(mem.readEntry(user, i)).toEqual(mem.readEntry(kernel, i));
    // Slot 511 (the image) gets the user copy's own tables, not the kernel's.
    expect(mem.readEntry(user, 511)!.addr).not.toBe(mem.readEntry(kernel, 511)!.addr);
  });

  it('the user copy reaches the entry text (read-only), the cpu_entry_area and ESPFIX, and no other kernel page', () => {
    const { sym, user, walkFrom } = booted(true, true);
    const text = walkFrom(user, sym.entry_text.va);
    expect(text).toMatchObject({ kind: 'ok', pa: sym.entry_text.pa, level: 2, perms: { write: false, nx: false, user: false } });
    expect(walkFrom(user, cpuEntryArea(1) + CEA.entry_trampoline)).toMatchObject({ kind: 'ok', pa: sym.entry_trampoline.pa });
    expect(walkFrom(user, cpuEntryArea(0) + CEA.entry_stack_page)).toMatchObject({ kind: 'ok', pa: sym.percpu[0].entry_stack, perms: { write: true } });
    expect(walkFrom(user, sym.espfix_stack.va)).toMatchObject({ kind: 'ok', pa: sym.espfix_stack.pa });
    for (const s of [sym._text, sym.init_task, sym.primary_crng]) expect(walkFrom(user, s.va)).toMatchObject({ kind: 'fault', reason: 'not-present' });
  });

  it('4.17 (globalShared): the entry text PMD is made global in both copies, which map the same 2 MiB page', () => {
    const { sym, kernel, user, walkFrom } = booted(true, true);
    const k = walkFrom(kernel, sym.entry_text.va), u = walkFrom(user, sym.entry_text.va);
    expect(k.kind === 'ok' && u.kind === 'ok' && [k.leaf.G, u.leaf.G, k.leaf.addr === u.leaf.addr]).toEqual([true, true, true]);
  });

  it('4.15 (no global shared areas): the entry text PMD is global in neither copy', () => {
    const { sym, kernel, user, walkFrom } = booted(true, false);
    const k = walkFrom(kernel, sym.entry_text.va), u = walkFrom(user, sym.entry_text.va);
    expect(k.kind === 'ok' && u.kind === 'ok' && [k.leaf.G, u.leaf.G]).toEqual([false, false]);
  });
});

describe('pti_clone_kernel_text (4.17, no PCID, pti=auto)', () => {
  it('to __end_rodata_hpage_align: the user copy maps kernel text global and read-only, and no data', () => {
    const { sym, kernel, user, walkFrom } = booted(true, true, '__end_rodata_hpage_align');
    const k = walkFrom(kernel, sym._text.va), u = walkFrom(user, sym._text.va);
    expect(u).toMatchObject({ kind: 'ok', pa: sym._text.pa, perms: { write: false } });
    expect(k.kind === 'ok' && u.kind === 'ok' && [k.leaf.G, u.leaf.G]).toEqual([true, true]);
    for (const s of [sym.init_task, sym.primary_crng]) expect(walkFrom(user, s.va)).toMatchObject({ kind: 'fault', reason: 'not-present' });
  });

  it('to _end (x86/broken/pti-clone-image-to-end): the user copy maps primary_crng too', () => {
    const { sym, user, walkFrom } = booted(true, true, '_end');
    expect(walkFrom(user, sym.primary_crng.va)).toMatchObject({ kind: 'ok', pa: sym.primary_crng.pa });
  });
});
