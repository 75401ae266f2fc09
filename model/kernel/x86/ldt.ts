// The per-mm LDT of arch/x86/kernel/ldt.c, as `modify_ldt(1, ...)` writes
// it (`write_ldt`). Under PTI the LDT is remapped per mm at LDT_BASE_ADDR
// (4.15: PGD slot -3 of the kernel half, copied into the mm's user PGD;
// x86-pti.md §6a-6b), in one of two slots so that other CPUs keep the old
// LDT until `install_ldt` switches them. The LDT holds the process's own
// descriptors, so its frame is labelled as the process's. The mapping and
// unmapping are PTI code, so they are mitigation hooks. A task that loads
// a selector from its LDT makes the processor read the descriptor there
// (`loadLdtSegment`), at CPL 3 and so, under PTI, through the user PGD.
// Simplifications: an LDT is one page (one `LDT_ENTRY_SIZE` descriptor set);
// the model keeps no LDTR: it is always the running mm's LDT, as
// `switch_mm` (`switch_ldt`) and `install_ldt`'s `flush_ldt` IPIs (sent
// with wait = true) leave it.

import type { AnyHook } from '../../arch/ops.ts';
import { access, lock, note, unlock } from '../../arch/x86/ops.ts';
import { descriptorVa, SEGMENT_TI_MASK } from '../../arch/x86/segment.ts';
import type { VA } from '../../arch/va.ts';
import type { Mm, Task } from '../task.ts';
import type { X86Kernel } from './kernel.ts';
import { LDT_BASE_ADDR, physToVirt } from './layout.ts';

/** `LDT_SLOT_STRIDE` = `LDT_ENTRIES * LDT_ENTRY_SIZE` (8192 * 8). */
export const LDT_SLOT_STRIDE = 8192 * 8;
/** `ldt_slot_va(slot)`. */
export const ldtSlotVa = (slot: number): VA => LDT_BASE_ADDR + slot * LDT_SLOT_STRIDE;

/** `struct ldt_struct`: its page, and the slot it is mapped in. */
export interface LdtStruct {
  readonly pa: number;
  readonly slot: 0 | 1;
}

/** `alloc_ldt_struct`, then `map_ldt_struct` into `slot` of the task's mm. */
function* newLdt(k: X86Kernel, c: number, task: Task, slot: 0 | 1): AnyHook<LdtStruct> {
  const ldt: LdtStruct = { pa: k.mem.alloc(`user(${task.tgid})`, `ldt(mm ${task.mm.id})`), slot };
  yield* k.hooks.mapLdtStruct(k.ctx(c), task.mm, ldt);
  return ldt;
}

/** `write_ldt`: a new LDT (a copy of the old one with the new entry), mapped in the other slot, installed; then the old one goes. */
export function* writeLdt(k: X86Kernel, c: number, task: Task): AnyHook {
  const mm = task.mm, old = k.ldts.get(mm);
  const ldt = yield* newLdt(k, c, task, old ? (old.slot === 0 ? 1 : 0) : 0);
  yield lock(`context.lock(mm ${mm.id})`); // install_ldt
  k.ldts.set(mm, ldt);
  yield note('install_ldt: smp_store_release(&mm->context.ldt, ldt); on_each_cpu_mask(mm_cpumask(mm), flush_ldt)');
  yield unlock(`context.lock(mm ${mm.id})`);
  if (!old) return;
  k.beginChange(c, mm, ldtSlotVa(old.slot), { pa: old.pa, prot: 'r' });
  yield* k.hooks.unmapLdtStruct(k.ctx(c), mm, old);
  k.mem.free(old.pa); // free_ldt_struct
}

/** `ldt_dup_context(old_mm, mm)`: a forked child gets its own copy of the parent's LDT, in slot 0, under the parent's `context.lock`. */
export function* ldtDupContext(k: X86Kernel, c: number, parent: Mm, child: Task): AnyHook {
  const old = k.ldts.get(parent);
  if (!old) return;
  yield lock(`context.lock(mm ${parent.id})`);
  k.ldts.set(child.mm, yield* newLdt(k, c, child, 0));
  yield unlock(`context.lock(mm ${parent.id})`);
}

/** The selector the model's tasks load: LDT entry 0 with TI = 1 and RPL 3. */
export const LDT_SELECTOR = SEGMENT_TI_MASK | 3;

/**
 * Where the processor reads `LDT_SELECTOR`'s descriptor: LDTR.base as
 * `load_mm_ldt` (asm/mmu_context.h) sets it. Under PTI "access the LDT
 * through the alias at ldt_slot_va(ldt->slot)"; else `ldt->entries`, a
 * `get_zeroed_page`, in the direct map.
 */
export const ldtDescriptorVa = (k: X86Kernel, ldt: LdtStruct): VA =>
  descriptorVa(k.mitigation.pti ? ldtSlotVa(ldt.slot) : physToVirt(ldt.pa), LDT_SELECTOR);

/**
 * The task's `mov %ax, %ds` (or `%ss`) with an LDT selector: an implicit
 * supervisor-mode read of the descriptor (SDM §4.6), whatever the CPL. A
 * fault here is the kernel's own mapping missing (`functional`); its
 * delivery is not modelled. Descriptor contents are not modelled: the
 * entry `write_ldt` installed is taken to be a 16-bit data segment, the
 * case ESPFIX exists for, so an SS loaded from it sends the task's next
 * IRET through ESPFIX (entry.ts `espfixIret`).
 */
export function* loadLdtSegment(k: X86Kernel, c: number, task: Task, ldt: LdtStruct, reg: 'ds' | 'ss'): AnyHook {
  const r = yield* access('iread', ldtDescriptorVa(k, ldt), `LDT descriptor (mov %ax, %${reg})`);
  if (r.fault) return;
  if (reg === 'ss') k.ldtStackSegment.add(task);
  yield* k.pebsAssist(c);
}
