// Tests for X86Machine/X86Cpu (machine.ts, cpu.ts): PCID tagging, global pages, each invalidation rule of
// SDM §4.10.4.1 (x86-pti.md §7c), permissions (§4.6), #PF invalidation, exception delivery through the current CR3.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { va, vaBig, type VA } from '../va.ts';
import { CR3_NOFLUSH, cr3Value, X86_CR4_PCIDE, X86_CR4_PGE } from './cpu.ts';
import { X86Machine, type X86AccessEffect, type X86Effect } from './machine.ts';
import {
  cli, exception, hint, invlpg, invpcid, invpcidFlushAll, invpcidFlushAllNonglobals, invpcidFlushOne, invpcidFlushSingleContext,
  ipi, iret, lgdt, lidt, lock, ltr, movCr3, movCr4, note, setPte, sti, sysret, unlock, wait, wrmsr, type X86Op,
} from './ops.ts';
import { isNone, mayBeTable, NOT_PRESENT, pte, type X86Pte } from './pte.ts';
import { tableIndex } from './walk.ts';

const KTEXT = va('0xffffffff81000000'), KDATA = va('0xffff888000100000'), KRO = KDATA + 0x1000;
const CEA = va('0xfffffe0000000000');
const IDT = CEA, STACK = CEA + 0x1000, TSS = CEA + 0x2000, IST = CEA + 0x3000, TRAMP = CEA + 0x4000, GDT = CEA + 0x5000;
const UDATA = va('0x400000'), UTEXT = UDATA + 0x1000;
const PA = { KTEXT: 0x100_0000, KDATA: 0x200_0000, KRO: 0x200_1000, UDATA: 0x300_0000, UTEXT: 0x300_1000, UDATA_B: 0x400_0000, CEA: 0x500_0000 };
const PGD = 0x10_0000, UPGD = 0x10_1000, PGD_B = 0x10_2000;
const ON = X86_CR4_PGE | X86_CR4_PCIDE;
const K = { A: true, D: true };

/**
 * Two CPUs on pgd(mm 1) with PCID 1 and CR4.PGE = PCIDE = 1 (unless `cr4`
 * says otherwise). pgd(mm 1)+user is the PTI user copy: user pages and the
 * cpu_entry_area only. pgd(mm 2) maps UDATA elsewhere and shares KTEXT.
 */
function setup(cr4 = ON, pcid = 1) {
  const mem = new PhysMem<X86Pte>(0x10_0000, 0x100_0000, mayBeTable);
  mem.claim(PGD, 'page-table', 'pgd(mm 1)', true);
  mem.claim(UPGD, 'page-table', 'pgd(mm 1)+user', true);
  mem.claim(PGD_B, 'page-table', 'pgd(mm 2)', true);
  const map = (root: number, v: VA, level: number, leaf: X86Pte) => {
    let table = root;
    for (let l = 0; l < level; l++) {
      let e = mem.readEntry(table, tableIndex(v, l));
      if (!e) { e = pte(mem.alloc('page-table', `L${l + 1}`, true), { RW: true, US: v < 2 ** 47, ...K }); mem.writeEntry(table, tableIndex(v, l), e, isNone); }
      table = e.addr;
    }
    mem.writeEntry(table, tableIndex(v, level), leaf, isNone);
  };
  for (const root of [PGD, PGD_B]) map(root, KTEXT, 2, pte(PA.KTEXT, { PS: true, G: true, ...K }));
  map(PGD, KDATA, 3, pte(PA.KDATA, { RW: true, NX: true, ...K }));
  map(PGD, KRO, 3, pte(PA.KRO, { NX: true, ...K }));
  for (const root of [PGD, UPGD]) {
    map(root, UDATA, 3, pte(PA.UDATA, { US: true, RW: true, NX: true, ...K }));
    map(root, UTEXT, 3, pte(PA.UTEXT, { US: true, ...K }));
    // cpu_entry_area: read-only IDT, GDT and TSS, writable stacks, the entry trampoline (x86-pti.md §6c).
    map(root, IDT, 3, pte(PA.CEA, { G: true, NX: true, ...K }));
    map(root, STACK, 3, pte(PA.CEA + 0x1000, { RW: true, G: true, NX: true, ...K }));
    map(root, TSS, 3, pte(PA.CEA + 0x2000, { G: true, NX: true, ...K }));
    map(root, IST, 3, pte(PA.CEA + 0x3000, { RW: true, G: true, NX: true, ...K }));
    map(root, TRAMP, 3, pte(PA.CEA + 0x4000, { G: true, ...K }));
    map(root, GDT, 3, pte(PA.CEA + 0x5000, { G: true, NX: true, ...K }));
  }
  map(PGD_B, UDATA, 3, pte(PA.UDATA_B, { US: true, RW: true, NX: true, ...K }));
  const m = new X86Machine(mem, 2, { CR3: cr3Value(PGD, cr4 & X86_CR4_PCIDE ? pcid : 0), CR4: cr4 });
  const c0 = m.cpus[0];
  for (const c of m.cpus) {
    m.exec(c, wrmsr('LSTAR', vaBig(TRAMP)));
    m.exec(c, lgdt(GDT));
    m.exec(c, lidt(IDT, { irq: TRAMP + 0x40, nmi: TRAMP + 0x80, fault: TRAMP + 0xc0 }));
    m.exec(c, ltr(TSS, STACK + 0x1000, IST + 0x1000));
  }
  return { m, c0, mem, run: (...ops: X86Op[]) => ops.map((op) => m.exec(c0, op)) };
}
/** [vaBase, pcid, global] of every entry on a CPU, sorted. */
const tlbOf = (m: X86Machine, cpu = 0) =>
  m.cpus[cpu].tlb.entries().map((e) => [e.vaBase, e.pcid, e.global] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
const flushes = (m: X86Machine) => m.effects.filter((e): e is Extract<X86Effect, { kind: 'flush' }> => e.kind === 'flush').map((e) => [e.how, e.removed]);
const accesses = (m: X86Machine) => m.effects.filter((e): e is X86AccessEffect => e.kind === 'access');

/** CPU 0 holds KDATA, KTEXT (global) and UDATA under PCID 1, then UDATA (mm 2) and KTEXT under PCID 2, current. */
function twoPcids() {
  const s = setup();
  for (const v of [KDATA, KTEXT, UDATA]) s.m.speculate(s.c0, v);
  s.run(movCr3(cr3Value(PGD_B, 2)));
  for (const v of [UDATA, KTEXT]) s.m.speculate(s.c0, v);
  s.m.effects = [];
  return s;
}

describe('TLB fills (§4.10.1, §4.10.2.4)', () => {
  it('tags a fill with CR3[11:0] when CR4.PCIDE = 1, and records it', () => {
    const { m, c0 } = setup(ON, 0x805);
    const e = m.speculate(c0, UDATA);
    expect(c0.tlb.entries()).toEqual([e]);
    expect(e).toMatchObject({ pcid: 0x805, global: false, pa: PA.UDATA, owner: 'pgd(mm 1)', root: PGD, level: 3, from: { level: 3, index: 0 } });
    expect(m.effects).toMatchObject([{ kind: 'fill', cpu: 0, speculative: true, conflicts: [], entry: e }]);
    expect(e?.from.epoch).toBeGreaterThan(0);
  });

  it('tags with PCID 0 when CR4.PCIDE = 0, whatever CR3[11:0] holds (PWT/PCD there)', () => {
    const { m, c0, run } = setup(X86_CR4_PGE);
    run(movCr3(cr3Value(PGD, 0x18)));
    m.speculate(c0, UDATA);
    expect([c0.pcid, c0.tlb.entries()[0].pcid]).toEqual([0, 0]);
  });

  it('makes an entry global only for G = 1 with CR4.PGE = 1', () => {
    const a = setup();
    for (const v of [KTEXT, KDATA]) a.m.speculate(a.c0, v);
    expect(tlbOf(a.m)).toEqual([[KDATA, 1, false], [KTEXT, 1, true]]);
    const b = setup(X86_CR4_PCIDE);
    b.m.speculate(b.c0, KTEXT);
    expect(tlbOf(b.m)).toEqual([[KTEXT, 1, false]]);
  });

  it('caches nothing for a walk that faults', () => {
    const { m, c0 } = setup();
    expect(m.speculate(c0, va('0x800000'))).toBeUndefined();
    expect(m.userAccess(c0, va('0x800000'), 'load')).toEqual({ fault: 'translation' });
    expect(c0.tlb.size).toBe(0);
  });
});

describe('INVLPG (§4.10.4.1)', () => {
  it('removes the page under the current PCID and global entries for it under any PCID, nothing else', () => {
    const { m, c0, run } = twoPcids();
    run(invlpg(UDATA), invlpg(KTEXT + 0x1234));
    // KTEXT was filled twice (global under PCIDs 1 and 2): both go, as does PCID 2's UDATA; PCID 1's UDATA and KDATA stay.
    expect(tlbOf(m)).toEqual([[UDATA, 1, false], [KDATA, 1, false]]);
    expect(flushes(m)).toEqual([['invlpg 0x0000000000400000', 1], ['invlpg 0xffffffff81001234', 2]]);
    expect(c0.pcid).toBe(2);
  });
});

describe('INVPCID (§4.10.4.1)', () => {
  it('type 0 removes the non-global entries of (PCID, page) only', () => {
    const { m, run } = twoPcids();
    run(invpcidFlushOne(1, UDATA), invpcidFlushOne(1, KTEXT));
    expect(tlbOf(m)).toEqual([[UDATA, 2, false], [KDATA, 1, false], [KTEXT, 1, true], [KTEXT, 2, true]]);
    expect(flushes(m)).toEqual([['invpcid type=0 pcid=0x1 0x0000000000400000', 1], ['invpcid type=0 pcid=0x1 0xffffffff81000000', 0]]);
  });

  it('type 1 removes every non-global entry of the PCID, current or not', () => {
    const { m, run } = twoPcids();
    run(invpcidFlushSingleContext(1));
    expect(tlbOf(m)).toEqual([[UDATA, 2, false], [KTEXT, 1, true], [KTEXT, 2, true]]);
  });

  it('type 2 removes everything, globals included', () => {
    const { m, run } = twoPcids();
    run(invpcidFlushAll());
    expect(tlbOf(m)).toEqual([]);
    expect(flushes(m)).toEqual([['invpcid type=2', 5]]);
  });

  it('type 3 removes every non-global entry under every PCID', () => {
    const { m, run } = twoPcids();
    run(invpcidFlushAllNonglobals());
    expect(tlbOf(m)).toEqual([[KTEXT, 1, true], [KTEXT, 2, true]]);
  });

  it('raises #GP for a malformed descriptor (thrown)', () => {
    const { run } = setup();
    expect(() => run(invpcid(1, 0x1000))).toThrow(/#GP/);
    expect(() => run(invpcid(0, 1))).toThrow(/#GP/);
    expect(() => run(invpcid(0, 1, va('0x0000800000000000')))).toThrow(/#GP/);
    const off = setup(X86_CR4_PGE);
    expect(() => off.run(invpcid(1, 2))).toThrow(/PCIDE = 0/);
    expect(() => off.run(invpcid(1, 0), invpcid(3, 7))).not.toThrow();
  });
});

describe('MOV to CR3 (§4.10.4.1)', () => {
  it('with CR4.PCIDE = 0 removes every non-global entry and keeps the globals', () => {
    const { m, c0, run } = setup(X86_CR4_PGE);
    for (const v of [KDATA, KTEXT, UDATA]) m.speculate(c0, v);
    run(movCr3(cr3Value(PGD_B, 0)));
    expect(tlbOf(m)).toEqual([[KTEXT, 0, true]]);
    expect(c0.root).toBe(PGD_B);
    expect(flushes(m)).toEqual([['mov-cr3', 2]]);
  });

  it('with PCIDE = 1 and bit 63 clear removes the non-global entries of the NEW PCID only', () => {
    const { m, c0, run } = twoPcids();
    run(movCr3(cr3Value(PGD, 1)));
    expect(tlbOf(m)).toEqual([[UDATA, 2, false], [KTEXT, 1, true], [KTEXT, 2, true]]);
    expect(c0.pcid).toBe(1);
    run(movCr3(cr3Value(PGD_B, 2)));
    expect(tlbOf(m)).toEqual([[KTEXT, 1, true], [KTEXT, 2, true]]);
  });

  it('with bit 63 set (NOFLUSH) removes nothing, and CR3 reads back without bit 63', () => {
    const { m, c0, run } = twoPcids();
    const before = tlbOf(m);
    run(movCr3(cr3Value(PGD, 1, true)));
    expect(tlbOf(m)).toEqual(before);
    expect(flushes(m)).toEqual([]);
    expect(run({ op: 'read-cr3' })).toEqual([cr3Value(PGD, 1)]);
    expect(c0.CR3 & CR3_NOFLUSH).toBe(0n);
  });

  it('raises #GP (thrown) for bit 63 while PCIDE = 0, or for reserved bits 62:52', () => {
    expect(() => setup(X86_CR4_PGE).run(movCr3(cr3Value(PGD, 0, true)))).toThrow(/#GP/);
    expect(() => setup().run(movCr3(BigInt(PGD) | (1n << 60n)))).toThrow(/reserved/);
  });
});

describe('MOV to CR4 (§4.10.4.1)', () => {
  it('toggling PGE removes everything, globals and every PCID included (tlbflush.h, x86-pti.md §4c)', () => {
    const { m, c0, run } = twoPcids();
    run(movCr4(ON ^ X86_CR4_PGE));
    expect(tlbOf(m)).toEqual([]);
    expect(c0.PGE).toBe(false);
    m.speculate(c0, KTEXT);
    run(movCr4(ON));
    expect(tlbOf(m)).toEqual([]);
    expect(flushes(m)).toEqual([['mov-cr4 (PGE toggled)', 5], ['mov-cr4 (PGE toggled)', 1]]);
    expect(run({ op: 'read-cr4' })).toEqual([ON]);
  });

  it('clearing PCIDE removes everything; writing other bits removes nothing', () => {
    const { m, c0, run } = twoPcids();
    run(movCr4(ON | (1n << 5n)));
    expect(c0.tlb.size).toBe(5);
    run(movCr3(cr3Value(PGD, 0, true)), movCr4(X86_CR4_PGE));
    expect([c0.tlb.size, c0.pcid, c0.PCIDE]).toEqual([0, 0, false]);
  });

  it('setting PCIDE keeps the PCID 0 entries, and needs CR3[11:0] = 0 (else #GP, thrown)', () => {
    const { m, c0, run } = setup(X86_CR4_PGE);
    m.speculate(c0, UDATA);
    run(movCr4(ON));
    expect(tlbOf(m)).toEqual([[UDATA, 0, false]]);
    expect(flushes(m)).toEqual([]);
    const bad = setup(X86_CR4_PGE);
    bad.run(movCr3(cr3Value(PGD, 0x8)));
    expect(() => bad.run(movCr4(ON))).toThrow(/#GP/);
  });
});

describe('global entries across a CR3 switch', () => {
  it('survive the switch and translate under another PCID, as a TLB hit from the old owner', () => {
    const { m, c0, run } = setup();
    m.speculate(c0, KTEXT);
    run(movCr3(cr3Value(PGD_B, 2)));
    m.effects = [];
    expect(m.kernelAccess(c0, 'fetch', KTEXT + 0x40, 'entry_SYSCALL_64')).toEqual({ pa: PA.KTEXT });
    expect(m.effects).toEqual([expect.objectContaining({
      kind: 'access', el: 1, access: 'fetch', outcomes: [expect.objectContaining({ pa: PA.KTEXT, via: 'TLB entry global from pgd(mm 1)' })],
    })]);
  });
});

describe('permissions (§4.6.1, CR0.WP = 1, no SMEP/SMAP)', () => {
  it('a CPL 3 load of a supervisor page faults (permission); a speculative fill still caches it', () => {
    const { m, c0 } = setup();
    c0.CPL = 3;
    expect(m.userAccess(c0, KDATA, 'load')).toEqual({ fault: 'permission' });
    // The walk filled the TLB; the #PF then invalidated the page for the current PCID.
    expect(m.effects.map((e) => e.kind)).toEqual(['fill', 'access', 'flush']);
    expect(accesses(m)[0]).toMatchObject({ el: 0, sym: 'user', outcomes: [{ fault: 'permission', pa: PA.KDATA }] });
    expect(c0.tlb.size).toBe(0);
    m.speculate(c0, KDATA);
    expect(tlbOf(m)).toEqual([[KDATA, 1, false]]);
    m.effects = [];
    expect(m.userAccess(c0, KDATA, 'load')).toEqual({ fault: 'permission' });
    expect(accesses(m)[0]).toMatchObject({ outcomes: [{ fault: 'permission', via: 'TLB entry pcid=0x1 from pgd(mm 1)' }] });
  });

  it('user code needs R/W to store; the kernel needs it too (WP); fetches need XD clear in both modes', () => {
    const { m, c0 } = setup();
    expect(m.kernelAccess(c0, 'write', KRO, 'rodata')).toEqual({ fault: 'permission' });
    expect(m.kernelAccess(c0, 'fetch', KDATA, 'data')).toEqual({ fault: 'permission' });
    expect(m.kernelAccess(c0, 'read', UDATA, 'user page')).toEqual({ pa: PA.UDATA });
    expect(m.kernelAccess(c0, 'fetch', UTEXT, 'user text')).toEqual({ pa: PA.UTEXT });
    c0.CPL = 3;
    expect(m.userAccess(c0, UTEXT, 'store')).toEqual({ fault: 'permission' });
    expect(m.userAccess(c0, UDATA, 'store')).toEqual({ pa: PA.UDATA });
    expect(m.kernelAccess(c0, 'fetch', UDATA, 'user data')).toEqual({ fault: 'permission' });
  });

  it('uread/uwrite are CPL 0 accesses judged with user rights and recorded at el 0', () => {
    const { m, c0 } = setup();
    expect(m.kernelAccess(c0, 'uread', KDATA, 'copy_from_user')).toEqual({ fault: 'permission' });
    expect(m.kernelAccess(c0, 'uwrite', UDATA, 'copy_to_user')).toEqual({ pa: PA.UDATA });
    expect(m.kernelAccess(c0, 'uwrite', UTEXT, 'copy_to_user')).toEqual({ fault: 'permission' });
    expect(accesses(m).map((a) => [a.access, a.el])).toEqual([['uread', 0], ['uwrite', 0], ['uwrite', 0]]);
  });

  it('a #PF removes a stale entry, so the retry sees the paging structures (flush_tlb_fix_spurious_fault is empty)', () => {
    const { m, c0, mem, run } = setup();
    m.speculate(c0, UTEXT);
    const table = c0.tlb.entries()[0].from.table;
    run(setPte(table, tableIndex(UTEXT, 3), 3, pte(PA.UTEXT, { US: true, RW: true, ...K })));
    expect(mem.readEntry(table, tableIndex(UTEXT, 3))?.RW).toBe(true);
    expect(m.kernelAccess(c0, 'uwrite', UTEXT, 'copy_to_user')).toEqual({ fault: 'permission' });
    expect(m.kernelAccess(c0, 'uwrite', UTEXT, 'copy_to_user')).toEqual({ pa: PA.UTEXT });
  });

  it('reports a TLB conflict when cached entries disagree on the PA, recording every outcome', () => {
    const { m, c0, run } = setup();
    m.speculate(c0, UDATA);
    const table = c0.tlb.entries()[0].from.table;
    run(setPte(table, tableIndex(UDATA, 3), 3, pte(0x700_0000, { US: true, ...K })));
    m.speculate(c0, UDATA);
    expect(m.effects.at(-1)).toMatchObject({ kind: 'fill', conflicts: [{ pa: PA.UDATA }] });
    expect(m.userAccess(c0, UDATA, 'load')).toEqual({ fault: 'tlb-conflict' });
    expect(accesses(m).at(-1)?.outcomes.map((o) => o.pa)).toEqual([PA.UDATA, 0x700_0000]);
    expect(c0.tlb.size).toBe(2);
  });

  it('a non-canonical access is a #GP: no walk, no invalidation', () => {
    const { m, c0 } = setup();
    m.speculate(c0, UDATA);
    expect(m.kernelAccess(c0, 'read', va('0x0000800000000000'), 'bad')).toEqual({ fault: 'non-canonical' });
    expect(flushes(m)).toEqual([]);
  });
});

describe('page-table stores', () => {
  it('are plain stores, seen by the next walk at once; an all-zero entry is removed', () => {
    const { m, c0, mem, run } = setup();
    const e = m.walk(c0, UDATA);
    if (e.kind !== 'ok') throw new Error('expected a mapping');
    const { table, index } = e.path[3];
    run(setPte(table, index, 3, NOT_PRESENT));
    expect(m.walk(c0, UDATA)).toMatchObject({ kind: 'fault', reason: 'not-present', level: 3 });
    expect(mem.frame(table)?.table?.has(index)).toBe(false);
    expect(m.effects.at(-1)).toEqual({ kind: 'store', cpu: 0, table, index, level: 3, old: e.leaf, pte: NOT_PRESENT });
  });
});

describe('exception delivery (SDM Vol. 3A, 64-bit mode) through the current CR3', () => {
  /** From CPL 3 on the PTI user page tables, IF set. */
  const atUser = () => {
    const s = setup();
    s.run(movCr3(cr3Value(UPGD, 0x801)));
    s.c0.CPL = 3; s.c0.IF = true;
    s.m.effects = [];
    return s;
  };
  const trail = (m: X86Machine) => accesses(m).map((a) => [a.access, a.va, a.el, a.sym]);

  it('an IRQ from CPL 3 reads the IDT, the GDT (the gate\'s CS) and the TSS, pushes on the entry stack and fetches the handler', () => {
    const { m, c0, run } = atUser();
    expect(run(exception('irq', 'timer'))).toEqual([{ pa: PA.CEA + 0x4000 }]);
    expect(trail(m)).toEqual([
      ['read', IDT + 16 * 0x20, 1, 'IDT[32]'], ['read', GDT + 16, 1, 'GDT[__KERNEL_CS]'], ['read', TSS + 4, 1, 'TSS.RSP0'],
      ['write', STACK + 0xff8, 1, 'frame on entry stack'], ['fetch', TRAMP + 0x40, 1, 'irq handler'],
    ]);
    expect(accesses(m).every((a) => a.outcomes.every((o) => o.entry?.owner === 'pgd(mm 1)+user'))).toBe(true);
    expect([c0.CPL, c0.IF, c0.saved]).toEqual([0, false, [{ CPL: 3, IF: true }]]);
  });

  it('faults when the user page tables do not map the entry stack, and stops there', () => {
    const { m, c0, run } = atUser();
    const w = m.walk(c0, STACK);
    if (w.kind !== 'ok') throw new Error('expected a mapping');
    run(setPte(w.path[3].table, w.path[3].index, 3, NOT_PRESENT));
    expect(run(exception('fault', '#PF'))).toEqual([{ fault: 'translation' }]);
    expect(trail(m).map((t) => t[3])).toEqual(['IDT[14]', 'GDT[__KERNEL_CS]', 'TSS.RSP0', 'frame on entry stack']);
  });

  it('an NMI switches to its IST stack even from CPL 0; another exception at CPL 0 pushes on the current stack (not modelled)', () => {
    const { m, c0, run } = setup();
    run(exception('nmi', 'perf'));
    expect(trail(m).map((t) => [t[0], t[1]])).toEqual([['read', IDT + 32], ['read', GDT + 16], ['read', TSS + 0x2c], ['write', IST + 0xff8], ['fetch', TRAMP + 0x80]]);
    m.effects = [];
    run(exception('fault', '#PF'));
    expect(trail(m).map((t) => t[3])).toEqual(['IDT[14]', 'GDT[__KERNEL_CS]', 'fault handler']);
    expect(c0.saved).toEqual([{ CPL: 0, IF: false }, { CPL: 0, IF: false }]);
  });

  it('SYSCALL fetches from IA32_LSTAR only; SYSRET returns to CPL 3 with the saved IF', () => {
    const { m, c0, run } = atUser();
    expect(run(exception('syscall', 'getpid'))).toEqual([{ pa: PA.CEA + 0x4000 }]);
    expect(trail(m)).toEqual([['fetch', TRAMP, 1, 'IA32_LSTAR']]);
    expect([c0.CPL, c0.IF]).toEqual([0, false]);
    run(sti(), sysret());
    expect([c0.CPL, c0.IF, c0.saved.length]).toEqual([3, true, 0]);
  });

  it('IRET restores the saved CPL and IF; returning with nothing saved throws', () => {
    const { c0, run } = setup();
    c0.IF = true;
    run(exception('irq', 'ipi'), exception('nmi', 'nmi'), iret());
    expect([c0.CPL, c0.IF]).toEqual([0, false]);
    run(iret());
    expect([c0.CPL, c0.IF]).toEqual([0, true]);
    expect(() => run(iret())).toThrow(/nothing saved/);
    expect(() => run(sysret())).toThrow(/nothing saved/);
  });

  it('IRET to CPL 3 reads the CS and SS descriptors (GDT, or SS from the LDT) as supervisor-mode reads through the CR3 it runs on', () => {
    const { m, run } = atUser();
    run(exception('irq', 'timer'));
    m.effects = [];
    run(iret());
    expect(trail(m)).toEqual([['iread', GDT + 0x30, 1, 'GDT[__USER_CS] (iretq)'], ['iread', GDT + 0x28, 1, 'GDT[__USER_DS] (iretq)']]);
    expect(accesses(m).every((a) => a.outcomes.every((o) => o.pa !== undefined && !o.fault))).toBe(true);
    run(exception('irq', 'timer'));
    m.effects = [];
    run(iret(KRO)); // an LDT the user tables do not map: the SS descriptor read faults
    expect(accesses(m).map((a) => [a.sym, a.outcomes[0].fault])).toEqual([['GDT[__USER_CS] (iretq)', undefined], ['LDT: the SS descriptor (iretq)', 'translation']]);
  });

  it('an implicit read at CPL 3 is judged as a supervisor-mode access (SDM §4.6)', () => {
    const { c0, run } = atUser();
    expect(c0.CPL).toBe(3);
    expect(run({ op: 'access', kind: 'iread', va: GDT, sym: 'LDT descriptor' })).toEqual([{ pa: PA.CEA + 0x5000 }]);
    expect(run({ op: 'access', kind: 'read', va: GDT, sym: 'explicit' })).toEqual([{ fault: 'permission' }]);
  });
});

describe('other ops', () => {
  it('privileged instructions at CPL 3 raise #GP (thrown)', () => {
    const { c0, run } = setup();
    c0.CPL = 3;
    for (const op of [movCr3(0n), movCr4(0n), invlpg(0), cli(), sti(), sysret(), { op: 'read-cr3' } as X86Op]) expect(() => run(op)).toThrow(/#GP/);
  });

  it('cli/sti, wrmsr, lgdt, lidt and ltr set CPU state', () => {
    const { c0, run } = setup();
    run(sti());
    expect(c0.IF).toBe(true);
    run(cli(), wrmsr('LSTAR', vaBig(KTEXT)), lgdt(KRO), lidt(KDATA, { irq: 1, nmi: 2, fault: 3 }), ltr(KRO, 0x5000, 0x6000));
    expect([c0.IF, c0.lstar, c0.gdt, c0.idt, c0.handlers, c0.tss, c0.entryStack, c0.ist]).toEqual([false, KTEXT, KRO, KDATA, { irq: 1, nmi: 2, fault: 3 }, KRO, 0x5000, 0x6000]);
    expect(() => run(wrmsr('LSTAR', 0x0000800000000000n))).toThrow(/#GP/);
    expect(() => run(wrmsr('LSTAR', 0x1234000000000000n))).toThrow(RangeError);
  });

  it('access and user ops run through exec', () => {
    const { c0, run } = setup();
    expect(run({ op: 'access', kind: 'read', va: KDATA, sym: 'data' })).toEqual([{ pa: PA.KDATA }]);
    c0.CPL = 3;
    expect(run({ op: 'user', kind: 'load', va: UDATA })).toEqual([{ pa: PA.UDATA }]);
    // A kernel access op issued at CPL 3 is checked with user-mode rights.
    expect(run({ op: 'access', kind: 'read', va: KDATA, sym: 'data' })).toEqual([{ fault: 'permission' }]);
  });

  it('an IPI marks an interrupt pending on its target only; taking it (IF = 1 only) clears it, a device IRQ does not', () => {
    const { m, run } = setup();
    run(ipi(1));
    expect(m.cpus.map((c) => c.irqPending)).toEqual([false, true]);
    expect(() => run(ipi(2))).toThrow(/does not exist/);
    const c1 = m.cpus[1];
    expect(() => m.exec(c1, exception('ipi', 'CALL_FUNCTION'))).toThrow(/IF = 0/);
    expect(c1.saved).toEqual([]);
    c1.IF = true;
    m.exec(c1, exception('irq', 'timer'));
    expect(c1.irqPending).toBe(true);
    c1.IF = true;
    m.exec(c1, exception('ipi', 'CALL_FUNCTION'));
    expect(c1.irqPending).toBe(false);
  });

  it('software steps and notes have no hardware effect', () => {
    const { m, run } = setup();
    expect(run(note('x'), hint('tlb-maintained'), lock('l'), unlock('l'), wait('w', () => true))).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(m.effects).toEqual([]);
  });

  it('clone gives an independent machine', () => {
    const { m, c0 } = setup();
    m.speculate(c0, UDATA);
    c0.irqPending = true;
    const c = m.clone();
    m.exec(c0, invpcidFlushAll());
    m.exec(c0, exception('fault', '#PF'));
    expect([c.cpus[0].tlb.size, c.cpus[0].saved.length, c.cpus[0].irqPending, c.cpus[0].lstar, c.seq]).toEqual([1, 0, true, TRAMP, 1]);
    expect(c.mem).not.toBe(m.mem);
    expect(c.cpus[0].CR3).toBe(c0.CR3);
  });
});

describe('X86Cpu registers', () => {
  it('derives root and PCID from CR3 and CR4 (§4.10.1), and builds CR3 operands', () => {
    const { c0 } = setup(ON, 0x801);
    expect([c0.root, c0.pcid, c0.PGE, c0.PCIDE]).toEqual([PGD, 0x801, true, true]);
    expect(cr3Value(0x5000, 0x801, true)).toBe(0x8000000000005801n);
    expect(() => cr3Value(0x5001, 0)).toThrow(RangeError);
    expect(() => cr3Value(0x5000, 0x1000)).toThrow(RangeError);
  });
});
