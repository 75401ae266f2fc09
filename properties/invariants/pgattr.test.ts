// The kernel's `pgattr_change_is_safe` (pgattr.ts) side by side with the
// model's Arm ARM rule (`descriptorBbm`, bbm.ts) over generated descriptor
// pairs: wherever the Arm ARM requires break-before-make the kernel forbids
// the change too, and the kernel forbids more exactly in the documented
// places (docs/sources/arm64-bbm.md §4), each shown to occur.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, encode, type Leaf } from '../../model/arch/arm64/descriptor.ts';
import { descriptorBbm } from './bbm.ts';
import {
  PGATTR_VERSIONS, PTE_AF, PTE_ATTRINDX_MASK, PTE_CONT, PTE_GP, PTE_NG, PTE_SWBITS_MASK, PTE_USER, PTE_UXN, PTE_VALID,
  pgattr_change_is_safe, type PgattrVersion,
} from './pgattr.ts';

const POINDEX = 7n << 60n;
/** Bits the model does not decode (DBM, GP, software bits): generated on top of the encoded leaf. */
const UNDECODED = [51, 50, 55, 56, 57, 58, 63];

/** Where the kernel is stricter than the Arm ARM: a kernel policy, not an architectural requirement. */
function kernelPolicy(old: bigint, next: bigint, v: PgattrVersion): string | undefined {
  if (old === 0n || next === 0n) return undefined;
  // Generated pairs have at most one side invalid and non-zero (a valid entry with bit 0 flipped).
  if (!(old & PTE_VALID) || !(next & PTE_VALID)) return v.takeDown === 'zero' ? 'an invalid non-zero entry counts as live' : undefined;
  if ((old | next) & PTE_CONT) return 'PTE_CONT on either side, even unchanged';
  const d = old ^ next;
  const bits: [string, bigint][] = [['nG 0->1', PTE_NG], ['UXN', PTE_UXN], ['PTE_USER (AP[1])', PTE_USER], ['AF', PTE_AF], ['POIndex', POINDEX], ['GP', PTE_GP], ['software bits', PTE_SWBITS_MASK]];
  for (const [name, b] of bits) if (d & b && !(v.mask & b)) return name;
  if (d & PTE_ATTRINDX_MASK) {
    const idx = (x: bigint) => Number((x & PTE_ATTRINDX_MASK) >> 2n);
    const normal = (i: number) => v.tagged?.includes(i) ?? false;
    if (!(normal(idx(old)) && normal(idx(next)))) return 'AttrIndx change between aliases of one memory type';
  }
  return undefined;
}

const leafArb = (level: 2 | 3) => fc.record({
  OA: fc.constantFrom(...(level === 3 ? [0x4000_0000, 0x4000_1000, 0x4020_0000] : [0x4000_0000, 0x4020_0000])),
  AttrIndx: fc.nat({ max: 7 }), AP: fc.nat({ max: 3 }), SH: fc.constantFrom(0, 2, 3), AF: fc.boolean(), nG: fc.boolean(),
  Contiguous: fc.boolean(), PXN: fc.boolean(), UXN: fc.boolean(), POIndex: fc.nat({ max: 7 }),
  extra: fc.subarray(UNDECODED),
}).map(({ extra, ...f }) => {
  // NS stays 0: the model has one (Non-secure) security state (tlb.ts).
  const leaf: Leaf = { kind: level === 3 ? 'page' : 'block', NS: false, ...f };
  return extra.reduce((raw, b) => raw | (1n << BigInt(b)), encode(leaf));
});

/** Bits a mutation may flip: every generated field, an OA bit the level's alignment allows, bit 0 (valid). */
const FLIPS = (level: 2 | 3) => [...UNDECODED, 0, 2, 3, 4, 6, 7, 8, 10, 11, level === 3 ? 12 : 21, 29, 52, 53, 54, 60];

/** A pair at one level: independent, take-down, or `old` with a few bits flipped and maybe another AttrIndx (so every row is reached). */
const pairArb = fc.constantFrom(2 as const, 3 as const).chain((level) => fc.record({
  level: fc.constant(level), old: leafArb(level),
  change: fc.oneof(leafArb(level).map((r) => ({ r })), fc.constant({ r: 0n }),
    fc.record({ f: fc.subarray(FLIPS(level), { maxLength: 2 }), attr: fc.option(fc.nat({ max: 7 })) })),
})).map(({ level, old, change }) => {
  if ('r' in change) return { level, old, next: change.r };
  const flipped = change.f.reduce((raw, b) => raw ^ (1n << BigInt(b)), old);
  return { level, old, next: change.attr === null ? flipped : (flipped & ~PTE_ATTRINDX_MASK) | (BigInt(change.attr) << 2n) };
});

describe.each(PGATTR_VERSIONS)('pgattr_change_is_safe $name ($source) vs the Arm ARM rule', (v) => {
  it('forbids every change the Arm ARM needs BBM for, and more only where documented', () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(pairArb, ({ level, old, next }) => {
      const model = descriptorBbm(decode(old, level), decode(next, level), level, v.mair);
      const kernelUnsafe = !pgattr_change_is_safe(old, next, v);
      const policy = model ? undefined : kernelPolicy(old, next, v);
      const row = model ? `both: ${model}` : policy ? `kernel only: ${policy}` : kernelUnsafe ? 'UNDOCUMENTED' : 'both allow';
      seen.set(row, (seen.get(row) ?? 0) + 1);
      expect(kernelUnsafe, `${row} old=0x${old.toString(16)} new=0x${next.toString(16)} L${level}`).toBe(model !== undefined || policy !== undefined);
    }), { numRuns: 3000 });
    const rows = [...seen.keys()];
    for (const r of ['both allow', 'both: output address change', 'both: memory type or shareability change', 'both: nG to global', 'both: Contiguous bit change',
      'kernel only: PTE_CONT on either side, even unchanged', 'kernel only: UXN', 'kernel only: PTE_USER (AP[1])', 'kernel only: AF', 'kernel only: POIndex', 'kernel only: GP',
      'kernel only: AttrIndx change between aliases of one memory type']) expect(rows, JSON.stringify(Object.fromEntries(seen))).toContain(r);
    expect(rows.includes('kernel only: software bits')).toBe(!(v.mask & PTE_SWBITS_MASK));
    expect(rows.includes('kernel only: nG 0->1')).toBe(!(v.mask & PTE_NG));
    expect(rows.includes('kernel only: an invalid non-zero entry counts as live')).toBe(v.takeDown === 'zero');
  });
});

describe('pgattr_change_is_safe, one row each', () => {
  const [preKpti, kpti, v61, swbits] = PGATTR_VERSIONS;
  const page = (over: Partial<Leaf> = {}, extra = 0n): bigint =>
    encode({ kind: 'page', OA: 0x4000_0000, AttrIndx: 0, NS: false, AP: 0, SH: 3, AF: true, nG: false, Contiguous: false, PXN: true, UXN: true, POIndex: 0, ...over } as Leaf) | extra;
  const model = (a: bigint, b: bigint, v: PgattrVersion) => descriptorBbm(decode(a, 3), decode(b, 3), 3, v.mair);

  it('global -> nG: allowed since KPTI, forbidden before it; never needs BBM', () => {
    expect(pgattr_change_is_safe(page(), page({ nG: true }), preKpti)).toBe(false);
    expect(pgattr_change_is_safe(page(), page({ nG: true }), kpti)).toBe(true);
    expect(model(page(), page({ nG: true }), kpti)).toBeUndefined();
    expect(pgattr_change_is_safe(page({ nG: true }), page(), kpti)).toBe(false);
  });

  it('Normal <-> Normal-Tagged: allowed since v6.1, and B2.11 needs no BBM for it; Normal -> Device needs it', () => {
    expect(pgattr_change_is_safe(page({ AttrIndx: 0 }), page({ AttrIndx: 1 }), v61)).toBe(true);
    expect(model(page({ AttrIndx: 0 }), page({ AttrIndx: 1 }), v61)).toBeUndefined();
    expect(pgattr_change_is_safe(page({ AttrIndx: 0 }), page({ AttrIndx: 3 }), v61)).toBe(false);
    expect(model(page({ AttrIndx: 0 }), page({ AttrIndx: 3 }), v61)).toBe('memory type or shareability change');
  });

  it('the software bits: forbidden until PTE_SWBITS_MASK joined the mask', () => {
    expect(pgattr_change_is_safe(page(), page({}, 1n << 55n), v61)).toBe(false);
    expect(pgattr_change_is_safe(page(), page({}, 1n << 55n), swbits)).toBe(true);
  });

  it('a Contiguous entry may not be rewritten even with itself (R_JQQTC allows it)', () => {
    const c = page({ Contiguous: true });
    expect(pgattr_change_is_safe(c, c, swbits)).toBe(false);
    expect(model(c, c, swbits)).toBeUndefined();
  });

  it('an invalid but non-zero entry counts as live for `old == 0` versions, not for `pte_valid` ones', () => {
    const none = page() & ~1n;
    expect(pgattr_change_is_safe(none, page({ OA: 0x4000_1000 }), kpti)).toBe(false);
    expect(pgattr_change_is_safe(none, page({ OA: 0x4000_1000 }), v61)).toBe(true);
    expect(model(none, page({ OA: 0x4000_1000 }), kpti)).toBeUndefined();
  });
});
