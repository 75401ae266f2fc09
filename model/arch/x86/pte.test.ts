// Tests for x86 paging entries (pte.ts): encodings against pgtable_types.h, level-dependent decoding, ptdump text.
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { decode, describe as describeEntry, encode, INVALID, isLeaf, kernpgTable, levelSize, pageTable, ptdumpProt, type Entry, type Leaf } from './pte.ts';

// arch/x86/include/asm/pgtable_types.h (docs/sources/x86-pti.md §1a, §1b).
const _PAGE_PRESENT = 1n << 0n;
const _PAGE_RW = 1n << 1n;
const _PAGE_USER = 1n << 2n;
const _PAGE_PWT = 1n << 3n;
const _PAGE_PCD = 1n << 4n;
const _PAGE_ACCESSED = 1n << 5n;
const _PAGE_DIRTY = 1n << 6n;
const _PAGE_PSE = 1n << 7n;
const _PAGE_PAT = 1n << 7n;
const _PAGE_GLOBAL = 1n << 8n;
const _PAGE_PAT_LARGE = 1n << 12n;
const _PAGE_NX = 1n << 63n;
// §1c: pre-PTI `__PAGE_KERNEL_EXEC` (ends in _PAGE_GLOBAL), and the table protections.
const __PAGE_KERNEL_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED | _PAGE_GLOBAL;
const __PAGE_KERNEL = __PAGE_KERNEL_EXEC | _PAGE_NX;
const __PAGE_KERNEL_RO = __PAGE_KERNEL & ~_PAGE_RW;
const __PAGE_KERNEL_RX = __PAGE_KERNEL_EXEC & ~_PAGE_RW;
const _PAGE_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY;
const _KERNPG_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;

const FLAGS = { RW: false, US: false, PWT: false, PCD: false, A: false, D: false, G: false, NX: false };
const page = (over: Partial<Leaf> = {}): Leaf => ({ kind: 'page', addr: 0x1234_5000, ...FLAGS, ...over });

describe('entry encoding matches pgtable_types.h', () => {
  it('puts each flag of a PTE at its _PAGE_BIT_* position', () => {
    expect(encode(page())).toBe(0x1234_5000n | _PAGE_PRESENT);
    const cases: [Partial<Leaf>, bigint][] = [
      [{ RW: true }, _PAGE_RW], [{ US: true }, _PAGE_USER], [{ PWT: true }, _PAGE_PWT], [{ PCD: true }, _PAGE_PCD],
      [{ A: true }, _PAGE_ACCESSED], [{ D: true }, _PAGE_DIRTY], [{ G: true }, _PAGE_GLOBAL], [{ NX: true }, _PAGE_NX],
    ];
    for (const [over, mask] of cases) expect(encode(page(over)) ^ encode(page())).toBe(mask);
  });

  it.each<[string, bigint, Partial<Leaf>]>([
    ['__PAGE_KERNEL_EXEC', __PAGE_KERNEL_EXEC, { RW: true, A: true, D: true, G: true }],
    ['__PAGE_KERNEL', __PAGE_KERNEL, { RW: true, A: true, D: true, G: true, NX: true }],
    ['__PAGE_KERNEL_RO', __PAGE_KERNEL_RO, { A: true, D: true, G: true, NX: true }],
    ['__PAGE_KERNEL_RX', __PAGE_KERNEL_RX, { A: true, D: true, G: true }],
  ])('decodes and re-encodes a PTE with %s', (_name, prot, flags) => {
    const raw = 0x1_0000_0000n | prot;
    expect(decode(raw, 3)).toEqual({ kind: 'page', addr: 0x1_0000_0000, ...FLAGS, ...flags });
    expect(encode(decode(raw, 3))).toBe(raw);
  });

  it('decodes _PAGE_TABLE and _KERNPG_TABLE at every table level, dropping D (ignored in a table entry)', () => {
    for (const level of [0, 1, 2]) {
      expect(decode(0x5000n | _PAGE_TABLE, level)).toEqual(pageTable(0x5000));
      expect(decode(0x5000n | _KERNPG_TABLE, level)).toEqual(kernpgTable(0x5000));
    }
    expect(encode(pageTable(0x5000))).toBe(0x5000n | (_PAGE_TABLE & ~_PAGE_DIRTY));
    expect(encode(kernpgTable(0x5000))).toBe(0x5000n | (_KERNPG_TABLE & ~_PAGE_DIRTY));
    expect(decode(0x5000n | _KERNPG_TABLE | _PAGE_GLOBAL | _PAGE_NX, 1)).toEqual({ ...kernpgTable(0x5000), NX: true });
  });

  it('reads bit 7 as PS above the PT, as PAT in a PTE, and as reserved in a PML4E', () => {
    const raw = 0x8000_0000n | __PAGE_KERNEL | _PAGE_PSE;
    expect(decode(raw, 1)).toMatchObject({ kind: 'large', addr: 0x8000_0000, G: true, NX: true });
    expect(decode(raw, 2)).toMatchObject({ kind: 'large', addr: 0x8000_0000 });
    expect(encode(decode(raw, 2))).toBe(raw);
    expect(decode(raw, 0)).toBe(INVALID);
    expect(decode(0x8000_0000n | __PAGE_KERNEL | _PAGE_PAT, 3)).toEqual(decode(0x8000_0000n | __PAGE_KERNEL, 3));
  });

  it('masks a large page address to its size, so PAT_LARGE (bit 12) is not part of it', () => {
    const raw = 0x4020_0000n | _PAGE_PAT_LARGE | _PAGE_PRESENT | _PAGE_PSE;
    expect(decode(raw, 2)).toMatchObject({ kind: 'large', addr: 0x4020_0000 });
    expect(decode(raw, 1)).toMatchObject({ kind: 'large', addr: 0x4000_0000 });
  });

  it('takes the address from bits 51:12 and ignores bits 62:52', () => {
    const raw = (1n << 51n) | (0x7ffn << 52n) | 0x3000n | _PAGE_PRESENT;
    expect(decode(raw, 3)).toMatchObject({ addr: 2 ** 51 + 0x3000 });
    expect(decode(raw, 0)).toMatchObject({ kind: 'table', addr: 2 ** 51 + 0x3000 });
  });

  it('decodes any entry with P clear as invalid, and encodes invalid as 0', () => {
    for (const level of [0, 1, 2, 3]) expect(decode(__PAGE_KERNEL & ~_PAGE_PRESENT | 0x5000n, level)).toBe(INVALID);
    expect(encode(INVALID)).toBe(0n);
  });

  it('refuses to encode an address the format cannot hold', () => {
    expect(() => encode(page({ addr: 0x1234_5800 }))).toThrow(RangeError);
    expect(() => encode({ ...page(), kind: 'large', addr: 0x1234_5000 })).toThrow(RangeError);
    expect(() => encode(page({ addr: 2 ** 52 }))).toThrow(RangeError);
    expect(() => encode(pageTable(-4096))).toThrow(RangeError);
  });

  it('gives entry sizes 512G, 1G, 2M, 4K and knows leaves', () => {
    expect([0, 1, 2, 3].map(levelSize)).toEqual([2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12]);
    expect([INVALID, pageTable(0), page(), { ...page(), kind: 'large' as const }].map(isLeaf)).toEqual([false, false, true, true]);
  });
});

describe('text', () => {
  // Protection columns of real dump_pagetables.c output (/work/shared/ptdump/x86-*.txt), after the size field.
  it.each<[string, Entry, number]>([
    ['USR ro                 GLB NX pte', page({ US: true, G: true, NX: true }), 3], // vsyscall page, PTI off
    ['USR ro                     NX pte', page({ US: true, NX: true }), 3], // vsyscall page, PTI on
    ['    RW                     x  pte', page({ RW: true }), 3],
    ['    RW         PSE         x  pmd', { ...page({ RW: true }), kind: 'large', addr: 0xbda0_0000 }, 2],
    ['    RW         PSE     GLB NX pmd', { ...page({ RW: true, G: true, NX: true }), kind: 'large', addr: 0 }, 2],
    ['    ro                 GLB x  pte', page({ G: true }), 3], // cpu_entry_area
    ['    RW PWT PCD         GLB NX pte', page({ RW: true, PWT: true, PCD: true, G: true, NX: true }), 3],
    [' '.repeat(30) + 'pud', INVALID, 1], // not present: 30 spaces
  ])('prints %j as printk_prot does', (text, e, level) => {
    expect(ptdumpProt(e, level)).toBe(text);
  });

  it('describes entries with the set flags in ptdump order', () => {
    expect(describeEntry(page({ US: true, RW: true, G: true, NX: true }))).toBe('page 0x12345000 USR RW GLB NX');
    expect(describeEntry({ ...page({ PWT: true, PCD: true }), kind: 'large', addr: 0x4000_0000 })).toBe('large 0x40000000 ro PWT PCD PSE x');
    expect(describeEntry(kernpgTable(0x5000))).toBe('table 0x5000 RW x');
    expect(describeEntry(INVALID)).toBe('invalid');
  });
});

describe('round trips', () => {
  const flags = fc.record({ RW: fc.boolean(), US: fc.boolean(), PWT: fc.boolean(), PCD: fc.boolean(), A: fc.boolean(), D: fc.boolean(), G: fc.boolean(), NX: fc.boolean() });
  const frame = (align: number) => fc.nat({ max: 2 ** 52 / align - 1 }).map((n) => n * align);
  const located = fc.oneof(
    fc.record({ level: fc.constant(3), e: fc.tuple(frame(2 ** 12), flags).map(([addr, f]): Entry => ({ kind: 'page', addr, ...f })) }),
    fc.record({ level: fc.constant(2), e: fc.tuple(frame(2 ** 21), flags).map(([addr, f]): Entry => ({ kind: 'large', addr, ...f })) }),
    fc.record({ level: fc.constant(1), e: fc.tuple(frame(2 ** 30), flags).map(([addr, f]): Entry => ({ kind: 'large', addr, ...f })) }),
    fc.record({
      level: fc.nat({ max: 2 }),
      e: fc.tuple(frame(2 ** 12), flags).map(([addr, { D: _d, G: _g, ...f }]): Entry => ({ kind: 'table', addr, ...f })),
    }),
  );

  test.prop([located])('decode(encode(e), level) = e for every entry valid at its level', ({ level, e }) => {
    expect(decode(encode(e), level)).toEqual(e);
  });

  test.prop([fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.nat({ max: 3 })])('decoding is a normal form: re-encoding any raw value decodes the same', (raw, level) => {
    const e = decode(raw, level);
    expect(decode(encode(e), level)).toEqual(e);
    if (e.kind === 'invalid') return;
    expect(encode(e) & ~raw).toBe(0n); // encoding sets only bits that were there
    const kept = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_PWT | _PAGE_PCD | _PAGE_ACCESSED | _PAGE_NX;
    expect((encode(e) ^ raw) & kept).toBe(0n); // and keeps every bit that applies at every level
  });
});
