// Per-CPU boot setup of paging: CR4.PGE (`probe_page_size_mask`), CR4.PCIDE
// when the CPU has PCID (`setup_pcid`), then `initialize_tlbstate_and_flush`:
// CR3 = `build_cr3(init_mm.pgd, 0)` with `cpu_tlbstate` at ASID 0 = init_mm.

import { X86_CR4_PCIDE, X86_CR4_PGE } from '../../../arch/x86/cpu.ts';
import { movCr3, movCr4, type Hook } from '../../../arch/x86/ops.ts';
import type { X86Ctx } from '../types.ts';
import { buildCr3 } from './tlb.ts';

export function* cpuSetup(c: X86Ctx): Hook {
  yield movCr4(X86_CR4_PGE | (c.opts.pcid ? X86_CR4_PCIDE : 0n));
  yield movCr3(buildCr3(c, c.sym.init_top_pgt.pa, 0));
}
