// Virtual addresses as JS numbers. Both arm64 (48-bit VA, TTBR1 half with
// VA[63:48] all ones) and x86-64 (48-bit canonical, bits 63:47 equal) keep
// VA[63:48] a sign extension, so VA[48:0] identifies every canonical VA and
// fits in a double exactly. Simplification: non-canonical VAs (address size
// faults) cannot be represented; no workload generates them.

/** A canonical virtual address, stored as VA[48:0]. Bit 48 set means the upper (kernel) half. */
export type VA = number;

const SPAN = 2 ** 49;
const HIGH_BIT = 2 ** 48;

/** Parse `0xffff000008080000` (or a user address) into a VA; throws on a non-canonical address. */
export function va(text: string | bigint): VA {
  const v = BigInt.asUintN(64, typeof text === 'bigint' ? text : BigInt(text));
  const top = v >> 48n;
  if (top !== 0n && top !== 0xffffn) throw new RangeError(`non-canonical virtual address 0x${v.toString(16)}`);
  return Number(v & BigInt(SPAN - 1));
}

/** The full 64-bit value of a VA. */
export const vaBig = (a: VA): bigint => BigInt.asUintN(64, BigInt.asIntN(49, BigInt(a)));

/** `0xffff000008080000`, as the kernel prints addresses. */
export const vaHex = (a: VA): string => '0x' + vaBig(a).toString(16).padStart(16, '0');

/** True for the upper half (arm64 TTBR1_EL1 region; x86 kernel half). */
export const isUpper = (a: VA): boolean => a >= HIGH_BIT;

/** Round down to a multiple of `size` (a power of two). */
export const alignDown = (a: number, size: number): number => a - (a % size);
