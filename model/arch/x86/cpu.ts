// Per-CPU (logical processor) state: CR3, the CR4 flags, CPL, RFLAGS.IF,
// the state saved by exceptions not yet returned from, and the TLB.
// MOV to CR3/CR4 take effect at once (they are serializing instructions,
// SDM Vol. 3A "Serializing Instructions", from memory: not in x86-pti.md),
// so unlike arm64 there are no pending register writes.
// Not modelled: CR0 (PG = 1 and WP = 1 throughout, as Linux runs), EFER
// (LMA = 1, NXE = 1), segmentation.

import { CR3_ADDR_MASK, CR3_PCID_MASK, CR4_RESET, type Cr4 } from './cr.ts';
import { X86Tlb } from './tlb.ts';

/** What exception delivery pushes and SYSRET/IRET restore (the saved CS.RPL and RFLAGS.IF). */
export interface SavedState {
  /** Privilege level to return to. */
  readonly CPL: 0 | 3;
  /** RFLAGS.IF to restore. */
  readonly IF: boolean;
}

export class X86Cpu {
  /** CR3 as loaded: bits 51:12 the PML4 base, bits 11:0 the PCID (or PWT/PCD). Never holds bit 63. */
  cr3: bigint;
  /** CR4.PCIDE and CR4.PGE. */
  cr4: Cr4;
  /** Current privilege level: 0 kernel, 3 user. */
  CPL: 0 | 3 = 0;
  /** RFLAGS.IF: maskable interrupts enabled. */
  IF = false;
  /** One saved state per exception taken and not yet returned from. */
  readonly saved: SavedState[] = [];
  /** This CPU's TLB. */
  tlb = new X86Tlb();

  constructor(readonly id: number, cr3 = 0n, cr4: Cr4 = CR4_RESET) {
    this.cr3 = cr3;
    this.cr4 = cr4;
  }

  /** PML4 table address, CR3 bits 51:12. */
  get root(): number { return Number(this.cr3 & CR3_ADDR_MASK); }

  /** Current PCID (SDM §4.10.1): CR3[11:0] when CR4.PCIDE = 1, else 000H. */
  get pcid(): number { return this.cr4.PCIDE ? Number(this.cr3 & CR3_PCID_MASK) : 0; }

  /** An independent copy, for exhaustive exploration. */
  clone(): X86Cpu {
    const c = new X86Cpu(this.id, this.cr3, this.cr4);
    c.CPL = this.CPL; c.IF = this.IF;
    c.saved.push(...this.saved);
    c.tlb = this.tlb.clone();
    return c;
  }
}
