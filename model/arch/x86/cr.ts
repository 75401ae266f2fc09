// Control-register layouts the x86 model uses (Intel SDM Vol. 3A §2.5 and
// §4.10.1; the kernel's arch/x86/include/asm/processor-flags.h, x86-pti.md
// §3a). CR3 values are raw 64-bit bigints so mitigation code can do what the
// entry assembly does (`orq $PTI_USER_PGTABLE_AND_PCID_MASK, %rax`,
// `bts $X86_CR3_PCID_NOFLUSH_BIT, %rax`).

/** `X86_CR3_PCID_NOFLUSH` / `CR3_NOFLUSH`, bit 63: MOV to CR3 need not invalidate (with CR4.PCIDE = 1). Not stored in CR3. */
export const CR3_NOFLUSH = 1n << 63n;
/** `CR3_PCID_MASK`, bits 11:0: the PCID when CR4.PCIDE = 1 (PWT/PCD at bits 3/4 otherwise). */
export const CR3_PCID_MASK = 0xfffn;
/** `CR3_ADDR_MASK`, bits 51:12: physical address of the PML4 table. */
export const CR3_ADDR_MASK = ((1n << 52n) - 1n) & ~CR3_PCID_MASK;

/** Decoded CR3 value (or MOV to CR3 source operand). */
export interface Cr3 {
  /** Bits 51:12: the PML4 table's physical address. */
  readonly base: number;
  /** Bits 11:0: the PCID field (used only when CR4.PCIDE = 1). */
  readonly pcid: number;
  /** Bit 63 of a MOV to CR3 source operand: keep the new PCID's TLB entries. */
  readonly noflush: boolean;
}

/** A CR3 value: `build_cr3()`, or `build_cr3_noflush()` when `noflush` (arch/x86/include/asm/tlbflush.h, x86-pti.md §4a). */
export function cr3(base: number, pcid: number, noflush = false): bigint {
  if (base % 4096 !== 0 || base < 0 || base >= 2 ** 52) throw new RangeError(`CR3 base 0x${base.toString(16)} is not a 4 KiB-aligned 52-bit address`);
  if (!Number.isInteger(pcid) || pcid < 0 || pcid > 0xfff) throw new RangeError(`PCID ${pcid} does not fit CR3[11:0]`);
  return BigInt(base) | BigInt(pcid) | (noflush ? CR3_NOFLUSH : 0n);
}

export const decodeCr3 = (v: bigint): Cr3 =>
  ({ base: Number(v & CR3_ADDR_MASK), pcid: Number(v & CR3_PCID_MASK), noflush: (v & CR3_NOFLUSH) !== 0n });

/** The CR4 flags the model uses. */
export interface Cr4 {
  /** CR4.PCIDE, bit 17 (`X86_CR4_PCIDE`): non-zero PCIDs enabled (SDM §4.10.1). */
  readonly PCIDE: boolean;
  /** CR4.PGE, bit 7 (`X86_CR4_PGE`): global pages enabled (SDM §4.10.2.4). */
  readonly PGE: boolean;
}

/** CR4 after reset: all flags clear (SDM Vol. 3A "Processor State After Reset" table; from memory, not in x86-pti.md). */
export const CR4_RESET: Cr4 = Object.freeze({ PCIDE: false, PGE: false });
