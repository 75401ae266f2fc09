// System registers used by the model, with their architectural field layouts
// (Arm ARM D19.2 "General system control registers"). Values are raw 64-bit
// bigints so mitigation code can do what the assembly does
// (`add x30, x30, #(PAGE_SIZE + RESERVED_TTBR0_SIZE)`, `bic x30, x30, #USER_ASID_FLAG`).

export type SysReg = 'TTBR0_EL1' | 'TTBR1_EL1' | 'TCR_EL1' | 'VBAR_EL1' | 'SCTLR_EL1';
export const SYSREGS: readonly SysReg[] = ['TTBR0_EL1', 'TTBR1_EL1', 'TCR_EL1', 'VBAR_EL1', 'SCTLR_EL1'];

/** TTBRn_EL1.ASID, bits [63:48] (arch/arm64/include/asm/pgtable-hwdef.h `TTBR_ASID_MASK`). */
export const TTBR_ASID_SHIFT = 48n;
export const TTBR_ASID_MASK = 0xffffn << TTBR_ASID_SHIFT;
/** TTBRn_EL1.BADDR, bits [47:1]; bit 0 is CnP, not used here. */
export const TTBR_BADDR_MASK = ((1n << 48n) - 1n) & ~1n;
/** TCR_EL1.A1, bit 22: the current ASID comes from TTBR1_EL1 when set (`TCR_A1`). */
export const TCR_A1 = 1n << 22n;
/** SCTLR_EL1.M, bit 0: stage 1 MMU enable. */
export const SCTLR_M = 1n;

/** Decoded TTBRn_EL1. */
export interface Ttbr {
  /** Translation table base physical address. */
  readonly BADDR: number;
  /** ASID field. */
  readonly ASID: number;
}

export const ttbr = (BADDR: number, ASID: number): bigint => (BigInt(ASID) << TTBR_ASID_SHIFT) | BigInt(BADDR);
export const decodeTtbr = (v: bigint): Ttbr =>
  ({ BADDR: Number(v & TTBR_BADDR_MASK), ASID: Number((v & TTBR_ASID_MASK) >> TTBR_ASID_SHIFT) });

/** The register state a translation uses: what `AArch64.S1TTWParams` reads. */
export interface S1TTWParams {
  /** TTBR0_EL1, for VA[63:48] all zeros. */
  readonly ttbr0: Ttbr;
  /** TTBR1_EL1, for VA[63:48] all ones. */
  readonly ttbr1: Ttbr;
  /** TCR_EL1.A1: ASID source. */
  readonly A1: boolean;
  /** SCTLR_EL1.M: stage 1 enabled. */
  readonly M: boolean;
  /** The ASID that tags new non-global TLB entries and matches lookups (TTBR1's when A1, else TTBR0's). */
  readonly asid: number;
}

/**
 * Translation parameters from register values. The ASID size is an
 * implementation choice (8 or 16 bits, TCR_EL1.AS); the model scales it down
 * to `asidBits`, and the hardware ignores TTBR.ASID bits above that width.
 */
export function s1Params(regs: Readonly<Record<SysReg, bigint>>, asidBits: number): S1TTWParams {
  const ttbr0 = decodeTtbr(regs.TTBR0_EL1), ttbr1 = decodeTtbr(regs.TTBR1_EL1);
  const A1 = (regs.TCR_EL1 & TCR_A1) !== 0n;
  const asid = (A1 ? ttbr1.ASID : ttbr0.ASID) % 2 ** asidBits;
  return { ttbr0, ttbr1, A1, M: (regs.SCTLR_EL1 & SCTLR_M) !== 0n, asid };
}
