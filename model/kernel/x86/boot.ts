// Boot on every x86 CPU: the mitigation's CPU setup (CR4, then CR3 with
// `initialize_tlbstate_and_flush`), `cpu_init` (`load_fixmap_gdt` with the
// read-only GDT alias, `load_current_idt` with the read-only IDT alias,
// `load_TR_desc` with the TSS in the cpu_entry_area)
// and `syscall_init` (IA32_LSTAR: under PTI the entry trampoline in the
// cpu_entry_area, else `entry_SYSCALL_64`), then on CPU 0 `pti_init`
// (`mm_init`, before any process exists), then a first task per CPU. The
// boot hooks stay in flight when the workload starts, as on arm64.

import type { AnyHook } from '../../arch/ops.ts';
import { access, lgdt, lidt, ltr, wait, wrmsr } from '../../arch/x86/ops.ts';
import { vaBig } from '../../arch/va.ts';
import type { X86Kernel } from './kernel.ts';
import { CEA, CPU_ENTRY_AREA_RO_IDT, cpuEntryArea } from './layout.ts';
import { ENTRY, entryStackTop } from './entry.ts';

/** Top of the NMI's IST stack: the second of the cpu_entry_area's exception stacks (`IST_INDEX_NMI`). */
const nmiStackTop = (cpu: number): number => cpuEntryArea(cpu) + CEA.exception_stacks + 2 * 4096;

export function* bootCpu(k: X86Kernel, cpu: number): AnyHook {
  const x = k.ctx(cpu), text = k.sym.entry_text.va;
  yield* k.hooks.cpuSetup(x);
  yield lgdt(cpuEntryArea(cpu) + CEA.gdt); // load_fixmap_gdt: get_cpu_gdt_ro(cpu)
  yield lidt(CPU_ENTRY_AREA_RO_IDT, { irq: text + ENTRY.interrupt_entry, nmi: text + ENTRY.nmi, fault: text + ENTRY.interrupt_entry });
  yield ltr(cpuEntryArea(cpu) + CEA.tss, entryStackTop(cpu), nmiStackTop(cpu));
  yield wrmsr('LSTAR', vaBig(k.mitigation.pti ? cpuEntryArea(cpu) + CEA.entry_trampoline : text + ENTRY.entry_SYSCALL_64));
  k.nmiReady[cpu] = true;
  // start_kernel / start_secondary run kernel code and touch kernel data: the TLB fills with kernel entries.
  yield* access('fetch', k.sym._text.va, cpu === 0 ? 'start_kernel' : 'start_secondary');
  yield* access('read', k.sym.init_task.va, 'current');
  if (cpu === 0) {
    if (k.hooks.layout) yield* k.hooks.layout(x);
    k.initDone = true;
  } else {
    yield wait('cpu0 has run mm_init (pti_init)', () => k.initDone);
  }
  yield* k.firstTask(cpu);
}
