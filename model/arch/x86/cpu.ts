// Per-CPU (logical processor) state: CR3, CR4, CPL, RFLAGS.IF, the frames
// of exceptions not yet returned from, what exception delivery reads
// (IA32_LSTAR, the GDT, the IDT, the TSS), and the TLB.
// MOV to CR3/CR4, WRMSR, LGDT, LIDT and LTR are serializing instructions (SDM
// Vol. 3A §9.3 "Serializing Instructions", §8.3 in older editions) and take
// effect at once, so x86 has none of arm64's pending-register
// nondeterminism: no write waits for an ISB.
// Not modelled: CR0 (PG = 1 and WP = 1 throughout, as Linux runs),
// IA32_EFER (LMA = 1, NXE = 1), IA32_FMASK (IF always in it, as Linux sets
// it), segment registers and descriptor contents (segment.ts: only the
// descriptor reads), NMI blocking until IRET.

import type { VA } from '../va.ts';
import { X86Tlb } from './tlb.ts';

/** CR3[11:0] (`CR3_PCID_MASK`, processor-flags.h, x86-pti.md §3a): the PCID when CR4.PCIDE = 1, else PWT/PCD at bits 3/4. */
export const CR3_PCID_MASK = 0xfffn;
/** CR3 bits 51:12: the PML4 table's physical address (MAXPHYADDR = 52; the kernel's `CR3_ADDR_MASK` also spans the reserved bits 62:52). */
export const CR3_ADDR_MASK = ((1n << 52n) - 1n) & ~CR3_PCID_MASK;
/** `X86_CR3_PCID_NOFLUSH` / `CR3_NOFLUSH`, bit 63 of a MOV to CR3 operand: keep the new PCID's entries (§4.10.4.1). Never stored. */
export const CR3_NOFLUSH = 1n << 63n;
/** `X86_CR4_PGE`, CR4 bit 7: global pages enabled (§4.10.2.4). */
export const X86_CR4_PGE = 1n << 7n;
/** `X86_CR4_PCIDE`, CR4 bit 17: non-zero PCIDs enabled (§4.10.1). */
export const X86_CR4_PCIDE = 1n << 17n;

/** A MOV to CR3 operand: `base | pcid`, with bit 63 when `noflush` (what `build_cr3`/`build_cr3_noflush` return, x86-pti.md §4a). */
export function cr3Value(base: number, pcid: number, noflush = false): bigint {
  if (!Number.isInteger(base) || base < 0 || base >= 2 ** 52 || base % 4096 !== 0) throw new RangeError(`CR3 base 0x${base.toString(16)} is not a 4 KiB-aligned 52-bit address`);
  if (!Number.isInteger(pcid) || pcid < 0 || pcid > 0xfff) throw new RangeError(`PCID ${pcid} does not fit CR3[11:0]`);
  return BigInt(base) | BigInt(pcid) | (noflush ? CR3_NOFLUSH : 0n);
}

/** What exception delivery and SYSCALL save and IRET/SYSRET restore (CS.RPL and RFLAGS.IF of the frame, or RCX/R11). */
export interface SavedState {
  /** Privilege level to return to. */
  readonly CPL: 0 | 3;
  /** RFLAGS.IF to restore. */
  readonly IF: boolean;
}

/** Handler addresses of the IDT gates, one per vector class the model delivers (`lidt`). */
export interface IdtHandlers {
  /** A device interrupt or IPI (`asm_common_interrupt`, `asm_sysvec_*`). */
  readonly irq: VA;
  /** Vector 2 (`asm_exc_nmi`). */
  readonly nmi: VA;
  /** An exception such as #PF (`asm_exc_page_fault`). */
  readonly fault: VA;
}

export class X86Cpu {
  /** CR3 as loaded: bits 51:12 the PML4 base, bits 11:0 the PCID. Bit 63 is never stored (reads give it clear). */
  CR3: bigint;
  /** CR4; the model reads PGE and PCIDE. */
  CR4: bigint;
  /** Current privilege level: 0 kernel, 3 user. */
  CPL: 0 | 3 = 0;
  /** RFLAGS.IF: maskable interrupts enabled. */
  IF = false;
  /** One saved state per exception or SYSCALL not yet returned from. */
  readonly saved: SavedState[] = [];
  /** This CPU's TLB. */
  tlb = new X86Tlb();
  /** IA32_LSTAR (`MSR_LSTAR`): where SYSCALL fetches (`entry_SYSCALL_64`, or its PTI trampoline). */
  lstar: VA = 0;
  /** GDTR.base: the GDT (`load_fixmap_gdt`: the read-only alias in the cpu_entry_area). */
  gdt: VA = 0;
  /** IDTR.base: the IDT (under PTI, the read-only alias in the cpu_entry_area). */
  idt: VA = 0;
  /** The gates' handlers. Simplification: gates are not modelled as memory; the IDT read is an access to `idt`. */
  handlers: IdtHandlers = { irq: 0, nmi: 0, fault: 0 };
  /** TR's base: the TSS (in the cpu_entry_area). */
  tss: VA = 0;
  /** TSS.RSP0: the top (one past the end, `cpu_entry_stack(cpu) + 1`) of the stack that entry from CPL 3 switches to; the frame is pushed below it. */
  entryStack: VA = 0;
  /** TSS.IST2: the top of the NMI stack (Linux's `IST_INDEX_NMI` + 1); the frame is pushed below it. */
  ist: VA = 0;
  /** An IPI has been sent to this CPU and not yet delivered (the local APIC's IRR bit; IPIs of one vector coalesce). */
  irqPending = false;

  constructor(readonly id: number, init: { readonly CR3?: bigint; readonly CR4?: bigint } = {}) {
    this.CR3 = init.CR3 ?? 0n;
    this.CR4 = init.CR4 ?? 0n;
  }

  /** PML4 table address, CR3 bits 51:12. */
  get root(): number { return Number(this.CR3 & CR3_ADDR_MASK); }

  /** The current PCID (§4.10.1, x86-pti.md §7a): CR3[11:0] when CR4.PCIDE = 1, else 000H. */
  get pcid(): number { return this.CR4 & X86_CR4_PCIDE ? Number(this.CR3 & CR3_PCID_MASK) : 0; }

  /** CR4.PGE. */
  get PGE(): boolean { return (this.CR4 & X86_CR4_PGE) !== 0n; }

  /** CR4.PCIDE. */
  get PCIDE(): boolean { return (this.CR4 & X86_CR4_PCIDE) !== 0n; }

  /** An independent copy, for exhaustive exploration. */
  clone(): X86Cpu {
    const c = new X86Cpu(this.id, { CR3: this.CR3, CR4: this.CR4 });
    c.CPL = this.CPL; c.IF = this.IF;
    c.saved.push(...this.saved);
    c.tlb = this.tlb.clone();
    c.lstar = this.lstar; c.gdt = this.gdt; c.idt = this.idt; c.handlers = this.handlers;
    c.tss = this.tss; c.entryStack = this.entryStack; c.ist = this.ist;
    c.irqPending = this.irqPending;
    return c;
  }
}
