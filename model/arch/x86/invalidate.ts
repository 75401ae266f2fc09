// Which TLB entries each x86 operation invalidates: Intel SDM Vol. 3A
// §4.10.4.1, "Operations that Invalidate TLBs and Paging-Structure Caches"
// (docs/sources/x86-pti.md §7c), and the #GP checks of MOV to CR3/CR4 and
// INVPCID (thrown: a #GP here is a bug in the caller). Pure: the machine
// applies the scope to the executing CPU's TLB only (x86 has no broadcast).
//
// Where the SDM lets an operation invalidate more ("The processor is always
// free to invalidate additional entries": INVLPG and INVPCID other pages and
// PCIDs, MOV to CR3 global pages), the scope is the minimum the SDM requires:
// software must not rely on more, and a mitigation that does fails here as
// it could on some processor.

import { vaHex, type VA } from '../va.ts';
import { CR3_NOFLUSH, CR3_PCID_MASK, X86_CR4_PCIDE, X86_CR4_PGE, type X86Cpu } from './cpu.ts';
import type { InvpcidType } from './ops.ts';
import { covers, hits, type X86TlbEntry } from './tlb.ts';
import { isCanonical } from './walk.ts';

/** What an operation invalidates: a name for cost reports and the entries it removes. */
export interface Scope {
  /** The instruction or event (`invlpg 0x...`, `mov-cr3 pcid=0x802`). */
  readonly how: string;
  /** The entries it removes (among those filled before it). */
  readonly matches: (e: X86TlbEntry) => boolean;
}

const hex = (n: number): string => '0x' + n.toString(16);
const ALL = (): boolean => true;

/**
 * MOV to CR3. CR4.PCIDE = 0: the non-global entries of PCID 000H (the only
 * PCID then). PCIDE = 1 with bit 63 clear: the non-global entries of the PCID
 * in bits 11:0 of the operand (not the old one). Bit 63 set: nothing. Returns
 * the value CR3 takes (bit 63 is never stored). Bit 63 with PCIDE = 0, or a
 * reserved bit 62:52, is a #GP (SDM Vol. 2 MOV CR; KVM's `kvm_set_cr3` strips
 * bit 63 only when PCIDE is set).
 */
export function movCr3Scope(cpu: X86Cpu, operand: bigint): { readonly cr3: bigint; readonly scope?: Scope } {
  const value = BigInt.asUintN(64, operand);
  const noflush = (value & CR3_NOFLUSH) !== 0n;
  if (noflush && !cpu.PCIDE) throw new Error('#GP: MOV to CR3 with bit 63 set while CR4.PCIDE = 0');
  const cr3 = value & ~CR3_NOFLUSH;
  if (cr3 >> 52n !== 0n) throw new Error(`#GP: MOV to CR3 sets reserved bits (0x${cr3.toString(16)})`);
  if (!cpu.PCIDE) return { cr3, scope: { how: 'mov-cr3', matches: (e) => !e.global && e.pcid === 0 } };
  if (noflush) return { cr3 };
  const pcid = Number(cr3 & CR3_PCID_MASK);
  return { cr3, scope: { how: `mov-cr3 pcid=${hex(pcid)}`, matches: (e) => !e.global && e.pcid === pcid } };
}

/**
 * MOV to CR4: every entry, global ones included, under every PCID, if it
 * changes CR4.PGE or clears CR4.PCIDE (tlbflush.h: "any _change_ to
 * X86_CR4_PGE will fully flush", x86-pti.md §4c). Setting PCIDE invalidates
 * nothing (entries so far carry PCID 000H, still current) and needs CR3[11:0]
 * = 0, else a #GP (§4.10.1). Not modelled: the PAE and SMEP cases.
 */
export function movCr4Scope(cpu: X86Cpu, operand: bigint): { readonly cr4: bigint; readonly scope?: Scope } {
  const cr4 = BigInt.asUintN(64, operand), old = cpu.CR4;
  if (!(old & X86_CR4_PCIDE) && cr4 & X86_CR4_PCIDE && cpu.CR3 & CR3_PCID_MASK) {
    throw new Error(`#GP: MOV to CR4 setting PCIDE with CR3[11:0] = 0x${(cpu.CR3 & CR3_PCID_MASK).toString(16)}`);
  }
  const pge = ((old ^ cr4) & X86_CR4_PGE) !== 0n, pcideOff = (old & X86_CR4_PCIDE) !== 0n && !(cr4 & X86_CR4_PCIDE);
  return pge || pcideOff ? { cr4, scope: { how: `mov-cr4 (${pge ? 'PGE toggled' : 'PCIDE cleared'})`, matches: ALL } } : { cr4 };
}

/** INVLPG: entries for the page under the current PCID, and global entries for it under any PCID. */
export function invlpgScope(cpu: X86Cpu, va: VA): Scope {
  const pcid = cpu.pcid;
  return { how: `invlpg ${vaHex(va)}`, matches: (e) => hits(e, va, pcid) };
}

/**
 * INVPCID: type 0, the non-global entries of (PCID, page); 1, every
 * non-global entry of the PCID; 2, everything including globals; 3,
 * everything but globals. A #GP (SDM Vol. 2 INVPCID): a PCID above 0xfff;
 * type 0 or 1 naming a PCID other than 000H while CR4.PCIDE = 0; type 0
 * without a canonical address.
 */
export function invpcidScope(cpu: X86Cpu, type: InvpcidType, pcid: number, va?: VA): Scope {
  if (!Number.isInteger(pcid) || pcid < 0 || pcid > 0xfff) throw new Error(`#GP: INVPCID descriptor PCID ${pcid} exceeds 12 bits`);
  if (type <= 1 && pcid !== 0 && !cpu.PCIDE) throw new Error(`#GP: INVPCID type ${type} with PCID ${hex(pcid)} while CR4.PCIDE = 0`);
  const how = `invpcid type=${type}`;
  switch (type) {
    case 0:
      if (va === undefined || !isCanonical(va)) throw new Error('#GP: INVPCID type 0 needs a canonical linear address');
      return { how: `${how} pcid=${hex(pcid)} ${vaHex(va)}`, matches: (e) => !e.global && e.pcid === pcid && covers(e, va) };
    case 1: return { how: `${how} pcid=${hex(pcid)}`, matches: (e) => !e.global && e.pcid === pcid };
    case 2: return { how, matches: ALL };
    case 3: return { how, matches: (e) => !e.global };
  }
}

/**
 * A page fault on `va`: "page faults invalidate entries in the TLBs ... for
 * that linear address" (§4.10.4.1), so the fault does not recur from a stale
 * entry; Linux's empty `flush_tlb_fix_spurious_fault` relies on it. The SDM
 * names the entries of the current PCID; the model also removes global
 * entries for the page, since any entry that could be used must go for the
 * fault not to recur.
 */
export function pageFaultScope(cpu: X86Cpu, va: VA): Scope {
  const pcid = cpu.pcid;
  return { how: `#PF ${vaHex(va)}`, matches: (e) => hits(e, va, pcid) };
}
