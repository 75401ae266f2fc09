// The x86-64 entry and exit paths of Linux 4.15 (arch/x86/entry/entry_64.S),
// with the CR3 switches as mitigation hooks (calling.h `SWITCH_TO_KERNEL_CR3`,
// `SWITCH_TO_USER_CR3_STACK`, `SAVE_AND_SWITCH_TO_KERNEL_CR3`, `RESTORE_CR3`).
// Every memory access the code makes before the switch to the kernel CR3,
// or after the switch back, goes through the user page tables under PTI:
// the SYSCALL trampoline and the entry stack in the cpu_entry_area, the
// entry text, the IRET frame, the ESPFIX stack. Those are the accesses that
// decide what PTI must keep mapped; the processor's own (descriptor tables,
// TSS, frame pushes) are in the machine's exception and IRET ops.
// Simplifications: GS is not modelled (`swapgs` is a note), segment state
// only as an LDT stack segment (ldt.ts), and pushes to the task stack are
// one access to `init_task` (which holds the model's task stacks).

import type { AnyHook } from '../../arch/ops.ts';
import { access, exception, iret, note, sysret, type ExceptionType } from '../../arch/x86/ops.ts';
import type { VA } from '../../arch/va.ts';
import type { X86Kernel } from './kernel.ts';
import { CEA, cpuEntryArea, physToVirt } from './layout.ts';
import { ldtDescriptorVa } from './ldt.ts';

/** Offsets in the entry text of the routines the model fetches from (names from entry_64.S). */
export const ENTRY = {
  entry_SYSCALL_64: 0, entry_SYSCALL_64_stage2: 0x40, syscall_return_via_sysret: 0x200, interrupt_entry: 0x400,
  swapgs_restore_regs_and_return_to_usermode: 0x600, native_irq_return_ldt: 0x700, nmi: 0x800, paranoid_exit: 0xa00,
} as const;
type Routine = keyof typeof ENTRY;
/** Offset of `do_syscall_64` from `_text` (representative: any page of the main text PMDs). */
const DO_SYSCALL_64 = 0x1000;

/** Top of this CPU's entry (trampoline) stack in its cpu_entry_area: `cpu_entry_stack(cpu) + 1`. */
export const entryStackTop = (cpu: number): number => cpuEntryArea(cpu) + CEA.entry_stack_page + 4096;

function* fetch(k: X86Kernel, r: Routine): AnyHook { yield* access('fetch', k.sym.entry_text.va + ENTRY[r], r); }

/** Pushes of `pt_regs` onto the task stack (and `cpu_current_top_of_stack`), after the CR3 switch. */
function* toTaskStack(k: X86Kernel): AnyHook { yield* access('write', k.sym.init_task.va, 'pt_regs on the task stack'); }

/**
 * SYSCALL: the CPU fetches from IA32_LSTAR (4.15 `syscall_init`: under PTI,
 * `entry_SYSCALL_64_trampoline` in the cpu_entry_area). The trampoline
 * stashes the user RSP on the entry stack, switches CR3, loads the task
 * stack and jumps to `entry_SYSCALL_64_stage2`.
 */
export function* syscallEntry(k: X86Kernel, c: number, nr: string): AnyHook {
  const t = k.running[c];
  if (t) k.ldtStackSegment.delete(t); // `pushq $__USER_DS /* pt_regs->ss */`: the task returns on the flat SS
  yield exception('syscall', nr);
  yield note('swapgs');
  if (k.mitigation.pti) yield* access('write', entryStackTop(c) - 8, 'RSP_SCRATCH (entry stack)');
  yield* k.hooks.switchToKernelCr3(k.ctx(c));
  if (k.mitigation.pti) yield* fetch(k, 'entry_SYSCALL_64_stage2');
  yield* toTaskStack(k);
  // do_syscall_64 and the handler are ordinary kernel text (arch/x86/entry/common.c), outside the entry text.
  yield* access('fetch', k.sym._text.va + DO_SYSCALL_64, 'do_syscall_64');
  yield note(`do_syscall_64: sys_${nr}`);
}

/**
 * An interrupt or exception from user mode: delivery (the machine reads the
 * IDT and TSS.RSP0 and pushes the frame on the entry stack, all through the
 * user tables), then `swapgs` and `switch_to_thread_stack`: the CR3 switch,
 * then the frame is copied from the entry stack to the task stack.
 */
export function* interruptEntry(k: X86Kernel, c: number, type: ExceptionType, reason: string, handler: string): AnyHook {
  yield exception(type, reason);
  yield note('swapgs; call switch_to_thread_stack');
  yield* k.hooks.switchToKernelCr3(k.ctx(c));
  yield* access('read', entryStackTop(c) - 8, 'the hardware frame (entry stack)');
  yield* toTaskStack(k);
  yield note(handler);
}

/**
 * `syscall_return_via_sysret` (4.15): copy to the trampoline stack, the CR3
 * switch, pop RDI/RSP from the entry stack and `sysretq`, all still
 * fetched from the entry text.
 */
export function* sysretExit(k: X86Kernel, c: number): AnyHook {
  yield* fetch(k, 'syscall_return_via_sysret');
  yield* access('write', entryStackTop(c) - 8, 'user RSP/RDI (entry stack)');
  yield* k.hooks.switchToUserCr3(k.ctx(c));
  yield* access('read', entryStackTop(c) - 8, 'popq %rdi; popq %rsp (entry stack)');
  yield* fetch(k, 'syscall_return_via_sysret');
  yield note('swapgs; sysretq');
  yield sysret();
}

/**
 * `swapgs_restore_regs_and_return_to_usermode`: the IRET frame to the entry
 * stack, the CR3 switch, `iretq`; or, when the frame's SS is an LDT
 * selector (`native_iret`: `testb $4, (SS-RIP)(%rsp)`), the ESPFIX path.
 */
export function* iretExit(k: X86Kernel, c: number): AnyHook {
  const t = k.running[c], ldt = t && k.ldtStackSegment.has(t) ? k.ldts.get(t.mm) : undefined;
  yield* fetch(k, 'swapgs_restore_regs_and_return_to_usermode');
  yield* access('write', entryStackTop(c) - 8, 'the IRET frame (entry stack)');
  yield* k.hooks.switchToUserCr3(k.ctx(c));
  yield* access('read', entryStackTop(c) - 8, ldt ? 'testb $4, SS: an LDT stack segment (entry stack)' : 'iretq pops its frame (entry stack)');
  yield* fetch(k, 'swapgs_restore_regs_and_return_to_usermode');
  if (ldt) return yield* espfixIret(k, c, ldtDescriptorVa(k, ldt));
  yield note('swapgs; iretq');
  yield iret();
}

/**
 * `native_irq_return_ldt` (CONFIG_X86_ESPFIX64; arch/x86/kernel/espfix_64.c):
 * IRET to a 16-bit SS restores only RSP[15:0], so the frame goes to this
 * CPU's ESPFIX ministack through its writable alias (`espfix_waddr`, the
 * direct map of the stack page) under the kernel CR3, then, after
 * `SWITCH_TO_USER_CR3_STACK`, `popq %rax` and `iretq` read it from the
 * read-only `espfix_stack` alias: under PTI through the user PGD, which is
 * why `pti_setup_espfix64` clones the ESPFIX P4D. `ss`: the SS descriptor
 * in the LDT, which the IRET reads too. Simplification: one ministack page
 * serves every CPU (image.ts `ESPFIX_STACK_VA`).
 */
function* espfixIret(k: X86Kernel, c: number, ss: VA): AnyHook {
  yield* fetch(k, 'native_irq_return_ldt');
  yield* access('write', entryStackTop(c) - 16, 'pushq %rdi (entry stack)');
  yield note('swapgs');
  yield* k.hooks.switchToKernelCr3(k.ctx(c));
  yield* access('write', physToVirt(k.sym.espfix_stack.pa), 'the IRET frame to espfix_waddr (ESPFIX stack, writable alias)');
  yield* k.hooks.switchToUserCr3(k.ctx(c));
  yield note('swapgs; popq %rdi; movq %rax, %rsp');
  yield* access('read', k.sym.espfix_stack.va, 'popq %rax (ESPFIX stack)');
  yield* access('iread', k.sym.espfix_stack.va + 8, 'iretq pops its frame (ESPFIX stack)');
  yield iret(ss);
}

/**
 * An interrupt taken in the kernel: no stack or CR3 switch ("it can be
 * skipped when the kernel is interrupted", pti.txt), `body`, then `iretq`.
 */
export function* kernelInterrupt(k: X86Kernel, type: 'irq' | 'ipi', reason: string, body: () => AnyHook): AnyHook {
  yield exception(type, reason);
  yield* body();
  yield* fetch(k, 'interrupt_entry');
  yield iret();
}

/**
 * An NMI. From user mode it is an interrupt entry on the NMI's IST stack
 * with the same exit. In the kernel, CR3 may be either half (the NMI can
 * land between `SWITCH_TO_USER_CR3` and `sysretq`), so the paranoid path
 * saves it and switches to the kernel CR3, and restores it before `iretq`.
 */
export function* nmi(k: X86Kernel, c: number, fromUser: boolean): AnyHook {
  const x = k.ctx(c);
  if (fromUser) {
    yield* interruptEntry(k, c, 'nmi', 'NMI', 'do_nmi');
    yield* access('read', k.sym.init_task.va, 'perf/NMI handler data');
    yield* iretExit(k, c);
    return;
  }
  yield exception('nmi', 'NMI');
  const saved = yield* k.hooks.saveAndSwitchToKernelCr3(x);
  yield note('do_nmi');
  yield* access('read', k.sym.init_task.va, 'perf/NMI handler data');
  yield* k.hooks.restoreCr3(x, saved);
  yield* fetch(k, 'paranoid_exit');
  yield iret();
}
