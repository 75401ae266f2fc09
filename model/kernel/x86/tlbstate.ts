// Per-CPU `cpu_tlbstate` and the ASID/PCID numbering of
// arch/x86/include/asm/tlbflush.h (4.15; docs/sources/x86-pti.md §4a):
// TLB_NR_DYN_ASIDS dynamic ASIDs per CPU, kPCID = ASID + 1, and under PTI
// uPCID = kPCID | 1 << X86_CR3_PTI_PCID_USER_BIT. Software state only: the
// hooks in model/mitigations/x86/lib read and write it as the C code does.

/** `TLB_NR_DYN_ASIDS`: "6 because 6 should be plenty and struct tlb_state will fit in two cache lines". */
export const TLB_NR_DYN_ASIDS = 6;
/** `X86_CR3_PTI_PCID_USER_BIT`: the user half of a PCID pair. */
export const X86_CR3_PTI_PCID_USER_BIT = 11;
/** `init_mm.context.ctx_id` (`INIT_MM_CONTEXT`): mm ctx_ids start above it. */
export const INIT_MM_CTX_ID = 1;

/** `kern_pcid(asid)`: ASID + 1, because PCID 0 is what PCID-unaware code uses. */
export const kernPcid = (asid: number): number => asid + 1;
/** `user_pcid(asid)` with CONFIG_PAGE_TABLE_ISOLATION. */
export const userPcid = (asid: number): number => kernPcid(asid) | (1 << X86_CR3_PTI_PCID_USER_BIT);

/** `struct tlb_context`: which mm's entries an ASID slot may hold, and how up to date they are. */
export interface TlbContext {
  ctx_id: number;
  tlb_gen: number;
}

/** `struct tlb_state` (one per CPU). */
export class TlbState {
  /** `loaded_mm`: the mm whose tables CR3 points at (`undefined` is `init_mm`). */
  loaded_mm: { readonly id: number } | undefined = undefined;
  loaded_mm_asid = 0;
  /** `next_asid`: round-robin slot allocation in `choose_new_asid`. */
  next_asid = 1;
  /** `invalidate_other`: flush every non-loaded ASID at the next switch (`clear_asid_other`). */
  invalidate_other = false;
  /** `user_pcid_flush_mask`: bit kPCID set means the user PCID must be flushed at the next SWITCH_TO_USER_CR3. */
  user_pcid_flush_mask = 0;
  /** `ctxs[TLB_NR_DYN_ASIDS]`; slot 0 starts as init_mm's (`initialize_tlbstate_and_flush`). */
  readonly ctxs: TlbContext[];

  /** @param dynAsids `TLB_NR_DYN_ASIDS` (6), or fewer so that short workloads hand slots on. */
  constructor(dynAsids = TLB_NR_DYN_ASIDS) {
    this.ctxs = Array.from({ length: dynAsids }, (_, i) => ({ ctx_id: i === 0 ? INIT_MM_CTX_ID : 0, tlb_gen: 0 }));
  }

  /** The user PCID of `asid` has a deferred flush pending. */
  userFlushPending(asid: number): boolean { return (this.user_pcid_flush_mask & (1 << kernPcid(asid))) !== 0; }
}
