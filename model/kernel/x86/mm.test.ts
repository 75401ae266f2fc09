// User address spaces (mm.ts): `pgd_alloc` + `pgd_ctor` (`clone_pgd_range`,
// which under PTI clones the user copy too: docs/sources/x86-pti.md §2a),
// populating, clearing and rewriting user ptes, and `__mmdrop`.
import { describe, expect, it } from 'vitest';
import type { PhysMem } from '../../arch/phys.ts';
import { va } from '../../arch/va.ts';
import { NOT_PRESENT, pte, type X86Pte } from '../../arch/x86/pte.ts';
import { walk } from '../../arch/x86/walk.ts';
import { bootKernel } from '../../../properties/runner/simulate.ts';
import { mitigation as nopti } from '../../mitigations/x86/nopti.ts';
import { mitigation as ptiPcid } from '../../mitigations/x86/pti-pcid.ts';
import { clearUserPage, freeMm, mapUserPage, newMm, rewriteUserPage } from './mm.ts';
import { PTI_USER_PGD_OFFSET, runAtBoot } from './pgtable.ts';
import { userPage } from './prot.ts';

const slots = (mem: PhysMem<X86Pte>, root: number) => [...(mem.frame(root)?.table?.keys() ?? [])].sort((a, b) => a - b);
const V = va('0x600000');

describe('newMm (pgd_alloc, pgd_ctor)', () => {
  it('under PTI copies the kernel half of init_top_pgt and of its user copy, and nothing else', () => {
    const k = bootKernel(ptiPcid), mem = k.mem, init = k.sym.init_top_pgt.pa;
    // A user-half entry in init_top_pgt (there is none in Linux) must not be copied.
    mem.writeEntry(init, 3, pte(0x300_0000, { RW: true, US: true }), () => false);
    mem.writeEntry(init + PTI_USER_PGD_OFFSET, 3, pte(0x300_0000, { RW: true, US: true }), () => false);
    const mm = newMm(mem, 99, init, true, 100);
    expect(mm.pgd % 8192).toBe(0);
    expect([mem.frame(mm.pgd)!.name, mem.frame(mm.pgd + 4096)!.name]).toEqual(['pgd(mm 99)', 'pgd(mm 99) (user)']);
    // The direct map (272) in the kernel copy only; the cpu_entry_area, ESPFIX and the image in both.
    expect(slots(mem, mm.pgd)).toEqual([272, 508, 510, 511]);
    expect(slots(mem, mm.pgd + PTI_USER_PGD_OFFSET)).toEqual([508, 510, 511]);
    for (const off of [0, PTI_USER_PGD_OFFSET]) {
      for (const i of slots(mem, mm.pgd + off)) expect(mem.readEntry(mm.pgd + off, i)).toEqual(mem.readEntry(init + off, i));
    }
    expect(mm).toMatchObject({ id: 99, ctxId: 100, tlbGen: 0, users: 0, tables: [] });
    expect(mm.pages.size).toBe(0);
  });

  it('without PTI one page with the kernel half of init_top_pgt', () => {
    const k = bootKernel(nopti), mem = k.mem, init = k.sym.init_top_pgt.pa;
    const mm = newMm(mem, 99, init, false, 100);
    expect(slots(mem, mm.pgd)).toEqual([272, 508, 510, 511]);
    expect(mem.frame(mm.pgd + 4096)?.name).not.toBe('pgd(mm 99) (user)');
  });
});

describe('user pages', () => {
  function setup() {
    const k = bootKernel(ptiPcid), mem = k.mem;
    const mm = newMm(mem, 99, k.sym.init_top_pgt.pa, true, 100);
    const walkFrom = (root: number) => walk((t, i) => mem.readEntry(t, i) ?? NOT_PRESENT, root, V);
    return { mem, mm, walkFrom };
  }

  it('mapUserPage allocates the tables and a user(tgid) frame, reachable from both copies; the kernel copy is NX', () => {
    const { mem, mm, walkFrom } = setup();
    const pa = runAtBoot(mem, mapUserPage(mem, mm, V, 'rx', 7, true));
    expect([mem.label(pa), mm.tables.length, mm.pages.get(V)]).toEqual(['user(7)', 3, { pa, prot: 'rx' }]);
    const u = walkFrom(mm.pgd + PTI_USER_PGD_OFFSET), kk = walkFrom(mm.pgd);
    expect(u).toMatchObject({ kind: 'ok', pa, perms: { user: true, write: false, nx: false } });
    expect(kk).toMatchObject({ kind: 'ok', pa, perms: { user: true, write: false, nx: true } });
  });

  it('rewriteUserPage changes the pte in place; clearUserPage clears it and returns the old frame', () => {
    const { mem, mm, walkFrom } = setup();
    const pa = runAtBoot(mem, mapUserPage(mem, mm, V, 'r', 7, true));
    runAtBoot(mem, rewriteUserPage(mem, mm, V, pa, 'rw'));
    expect(walkFrom(mm.pgd + PTI_USER_PGD_OFFSET)).toMatchObject({ kind: 'ok', pa, perms: { write: true }, leaf: userPage(pa, 'rw') });
    expect(runAtBoot(mem, clearUserPage(mem, mm, V))).toBe(pa);
    expect(walkFrom(mm.pgd + PTI_USER_PGD_OFFSET)).toMatchObject({ kind: 'fault', reason: 'not-present', level: 3 });
    expect(mm.pages.has(V)).toBe(false);
    expect(runAtBoot(mem, clearUserPage(mem, mm, V))).toBeUndefined();
  });

  it('freeMm frees the page tables and both halves of the pgd pair', () => {
    const { mem, mm } = setup();
    runAtBoot(mem, mapUserPage(mem, mm, V, 'r', 7, true));
    const frames = [...mm.tables, mm.pgd, mm.pgd + PTI_USER_PGD_OFFSET];
    freeMm(mem, mm, true);
    expect(frames.map((f) => mem.label(f))).toEqual(frames.map(() => 'free'));
  });
});
