// The per-mm LDT of arch/x86/kernel/ldt.c, as `modify_ldt(1, ...)` writes
// it (`write_ldt`). Under PTI the LDT is remapped per mm at LDT_BASE_ADDR
// (4.15: PGD slot -3 of the kernel half, copied into the mm's user PGD;
// x86-pti.md §6a-6b), in one of two slots so that other CPUs keep the old
// LDT until `install_ldt` switches them. The LDT holds the process's own
// descriptors, so its frame is labelled as the process's. The mapping and
// unmapping are PTI code, so they are mitigation hooks.
// Simplifications: an LDT is one page (one `LDT_ENTRY_SIZE` descriptor set);
// the LLDT reload on each CPU (`flush_ldt`) and fork's `ldt_dup_context` are
// not modelled (a child starts without an LDT).

import type { AnyHook } from '../../arch/ops.ts';
import { note } from '../../arch/x86/ops.ts';
import type { VA } from '../../arch/va.ts';
import type { Task } from '../task.ts';
import type { X86Kernel } from './kernel.ts';
import { LDT_BASE_ADDR } from './layout.ts';

/** `LDT_SLOT_STRIDE` = `LDT_ENTRIES * LDT_ENTRY_SIZE` (8192 * 8). */
export const LDT_SLOT_STRIDE = 8192 * 8;
/** `ldt_slot_va(slot)`. */
export const ldtSlotVa = (slot: number): VA => LDT_BASE_ADDR + slot * LDT_SLOT_STRIDE;

/** `struct ldt_struct`: its page, and the slot it is mapped in. */
export interface LdtStruct {
  readonly pa: number;
  readonly slot: 0 | 1;
}

/** `write_ldt`: a new LDT (a copy of the old one with the new entry), mapped in the other slot, installed; then the old one goes. */
export function* writeLdt(k: X86Kernel, c: number, task: Task): AnyHook {
  const mm = task.mm, old = k.ldts.get(mm), x = k.ctx(c);
  const ldt: LdtStruct = { pa: k.mem.alloc(`user(${task.tgid})`, `ldt(mm ${mm.id})`), slot: old ? (old.slot === 0 ? 1 : 0) : 0 };
  yield* k.hooks.mapLdtStruct(x, mm, ldt);
  k.ldts.set(mm, ldt);
  yield note('install_ldt: smp_store_release(&mm->context.ldt, ldt); on_each_cpu_mask(mm_cpumask(mm), flush_ldt)');
  if (!old) return;
  k.beginChange(c, mm, ldtSlotVa(old.slot), { pa: old.pa, prot: 'r' });
  yield* k.hooks.unmapLdtStruct(x, mm, old);
  k.mem.free(old.pa); // free_ldt_struct
}
