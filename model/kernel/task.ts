// Tasks and address spaces (`struct task_struct`, `struct mm_struct`), cut
// down to what isolation needs. Threads share an mm (CLONE_VM); pid is the
// thread id and tgid the process id, whose frames carry `user(tgid)`.

import type { VA } from '../arch/va.ts';

/** User page permissions a task can ask for with mmap/mprotect. */
export type Prot = 'r' | 'rw' | 'rx';

/** One user page of an mm: a VMA of one page, populated (MAP_POPULATE-like). */
export interface UserPage {
  /** Physical frame. */
  readonly pa: number;
  /** Permissions. */
  readonly prot: Prot;
}

export interface Mm {
  /** Ghost id (the tgid of the process that created it). */
  readonly id: number;
  /** Physical address of the pgd (`mm->pgd`, as `virt_to_phys` gives it). */
  readonly pgd: number;
  /** arm64 `mm->context.id`: generation | ASID; 0 until first allocated. */
  contextId: number;
  /** x86 `mm->context.ctx_id`: unique per mm, never reused (`last_mm_ctx_id`). */
  ctxId: number;
  /** x86 `mm->context.tlb_gen`: bumped by every flush request (`inc_mm_tlb_gen`). */
  tlbGen: number;
  /** Live tasks using the mm (`mm_users`). */
  users: number;
  /** User pages by VA. */
  readonly pages: Map<VA, UserPage>;
  /** Page-table frames other than the pgd (freed with the mm). */
  readonly tables: number[];
}

export interface Task {
  /** Thread id. */
  readonly pid: number;
  /** Process id: the owner in frame labels. */
  readonly tgid: number;
  readonly mm: Mm;
  /** `thread_info.ttbr0` (ARM64_SW_TTBR0_PAN): the TTBR0 value uaccess enable restores. */
  ttbr0: bigint;
  /** CPU it runs on, if running. */
  cpu?: number;
  /** False once it has exited. */
  alive: boolean;
  /** False while `copy_process` is still building it; `wake_up_new_task` makes it runnable. */
  ready: boolean;
}

/** `ASID(mm)`: `mm->context.id & 0xffff` (asm/mmu.h). */
export const ASID = (mm: Mm): number => mm.contextId & 0xffff;
