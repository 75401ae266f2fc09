// Tests for the invalidation rules (invalidate.ts), SDM §4.10.4.1: which entries MOV to CR3/CR4, INVLPG and INVPCID remove.
import { describe, expect, it } from 'vitest';
import { va, type VA } from '../va.ts';
import { cr3, type Cr4 } from './cr.ts';
import { invlpgInvalidates, invpcidInvalidates, movCr3Invalidates, movCr4Invalidates, type Invalidation } from './invalidate.ts';
import { invpcid } from './ops.ts';
import type { X86TlbEntry } from './tlb.ts';

const UDATA = va('0x400000'), KDATA = va('0xffff888000100000'), KTEXT = va('0xffffffff81c00000');
/** A cached translation of `vaBase` (a 2 MiB one at level 2) under `pcid`. */
const e = (vaBase: VA, pcid: number, global = false, level = 3): X86TlbEntry => ({
  vaBase, level, pa: 0x100_0000, pcid, global, root: 0x10_0000, owner: 'pgd', from: { table: 0, index: 0, level }, seq: 1,
  leaf: { kind: level === 3 ? 'page' : 'large', addr: 0x100_0000, RW: true, US: false, PWT: false, PCD: false, A: true, D: true, G: global, NX: false },
  perms: { user: false, write: true, nx: false },
});
const ALL: Record<string, X86TlbEntry> = {
  u1: e(UDATA, 1), u2: e(UDATA, 2), k1: e(KDATA, 1), k0: e(KDATA, 0), g: e(KTEXT, 1, true, 2), gu: e(UDATA, 3, true),
};
/** Names of the entries an invalidation removes. */
const removed = (inv: Invalidation | undefined): string[] => Object.keys(ALL).filter((k) => inv?.(ALL[k]) ?? false);
const ON: Cr4 = { PCIDE: true, PGE: true };

describe('MOV to CR3', () => {
  it('with PCIDE = 0 removes the non-global entries of PCID 000H (the only PCID in use then)', () => {
    expect(removed(movCr3Invalidates({ PCIDE: false, PGE: true }, cr3(0x10_0000, 0)))).toEqual(['k0']);
  });
  it('with PCIDE = 1 and bit 63 clear removes the non-global entries of the operand\'s PCID only', () => {
    expect(removed(movCr3Invalidates(ON, cr3(0x10_0000, 1)))).toEqual(['u1', 'k1']);
    expect(removed(movCr3Invalidates(ON, cr3(0x10_0000, 3)))).toEqual([]);
  });
  it('with PCIDE = 1 and bit 63 set removes nothing', () => {
    expect(movCr3Invalidates(ON, cr3(0x10_0000, 1, true))).toBeUndefined();
  });
  it('ignores bit 63 with PCIDE = 0 (simplification)', () => {
    expect(removed(movCr3Invalidates({ PCIDE: false, PGE: true }, cr3(0x10_0000, 0, true)))).toEqual(['k0']);
  });
});

describe('MOV to CR4', () => {
  it.each<[string, Cr4, Cr4, boolean]>([
    ['clearing PGE', ON, { PCIDE: true, PGE: false }, true],
    ['setting PGE', { PCIDE: true, PGE: false }, ON, true],
    ['clearing PCIDE', ON, { PCIDE: false, PGE: true }, true],
    ['setting PCIDE', { PCIDE: false, PGE: true }, ON, false],
    ['rewriting the same flags', ON, ON, false],
  ])('%s removes %s', (_name, old, next, all) => {
    expect(removed(movCr4Invalidates(old, next))).toEqual(all ? Object.keys(ALL) : []);
  });
});

describe('INVLPG', () => {
  it.each<[string, VA, number, string[]]>([
    ['the page in the current PCID and a global entry for it', UDATA + 0x123, 1, ['u1', 'gu']],
    ['a global entry filled under another PCID', KTEXT + 0x1_2345, 2, ['g']],
    ['nothing for a page cached only under other PCIDs', KDATA, 2, []],
  ])('removes %s', (_name, v, pcid, out) => {
    expect(removed(invlpgInvalidates(v, pcid))).toEqual(out);
  });
});

describe('INVPCID', () => {
  it.each<[string, ReturnType<typeof invpcid>, string[]]>([
    ['type 0: the page in the given PCID, whatever the current one', invpcid(0, 2, UDATA + 8), ['u2']],
    ['type 0: never a global entry', invpcid(0, 3, UDATA), []],
    ['type 0: a large entry covering the address', invpcid(0, 1, KTEXT + 0x1000), []],
    ['type 1: every non-global entry of the PCID', invpcid(1, 1), ['u1', 'k1']],
    ['type 2: everything', invpcid(2, 0), Object.keys(ALL)],
    ['type 3: everything but globals', invpcid(3, 0), ['u1', 'u2', 'k1', 'k0']],
  ])('%s', (_name, op, out) => {
    if (op.op !== 'invpcid') throw new Error('not invpcid');
    expect(removed(invpcidInvalidates(op))).toEqual(out);
  });

  it('removes a non-global large entry by any address inside it (type 0)', () => {
    const big = e(KTEXT, 1, false, 2);
    expect(invpcidInvalidates({ op: 'invpcid', type: 0, pcid: 1, va: KTEXT + 0x1f_f000 })(big)).toBe(true);
    expect(invpcidInvalidates({ op: 'invpcid', type: 0, pcid: 1, va: KTEXT + 0x20_0000 })(big)).toBe(false);
  });

  it('rejects a malformed descriptor', () => {
    expect(() => invpcidInvalidates({ op: 'invpcid', type: 1, pcid: 0x1000 })).toThrow(/#GP/);
    expect(() => invpcidInvalidates({ op: 'invpcid', type: 0, pcid: 1 })).toThrow(/linear address/);
  });
});
