// The x86-64 kernel memory map modelled: Linux 4.15 with 4-level paging
// (Documentation/x86/x86_64/mm.txt after tglx's PGD-slot fix, docs/sources/
// x86-pti.md §6a; asm/page_64_types.h, asm/pgtable_64_types.h,
// asm/cpu_entry_area.h). Only a few pages of each region are populated;
// offsets inside the cpu_entry_area match the 4.16 ptdump in
// test-data/ptdump/x86-pti-global-shared-areas-current_user-2018.txt.

import { va, type VA } from '../../arch/va.ts';

/** `PGDIR_SHIFT`: one PGD entry maps 512 GiB. */
export const PGDIR_SIZE = 2 ** 39;
/** `PMD_SIZE`. */
export const PMD_SIZE = 2 << 20;
/** PGD index of a VA (VA[47:39]). */
export const pgdIndex = (a: VA): number => Math.floor(a / PGDIR_SIZE) % 512;
/** The VA a kernel-half PGD slot `-n` maps (`n << PGDIR_SHIFT`, sign-extended). */
const slotBase = (slot: number): VA => 2 ** 48 + (512 + slot) * PGDIR_SIZE;

/** `__PAGE_OFFSET_BASE` (4.15, 4-level): the direct mapping of all physical memory. */
export const PAGE_OFFSET: VA = va('0xffff880000000000');
/** `__START_KERNEL_map`: the kernel image mapping, from physical 0. */
export const START_KERNEL_MAP: VA = va('0xffffffff80000000');
/** `CONFIG_PHYSICAL_START` (x86_64 default 16 MiB): where the image is loaded and linked. */
export const PHYSICAL_START = 0x100_0000;
/** `CONFIG_PHYSICAL_ALIGN`: KASLR moves the image in steps of 2 MiB. */
export const PHYSICAL_ALIGN = PMD_SIZE;
/** `KERNEL_IMAGE_SIZE` with CONFIG_RANDOMIZE_BASE: the image mapping is 1 GiB. */
export const KERNEL_IMAGE_SIZE = 1 << 30;

/** `CPU_ENTRY_AREA_PGD` = -4: PGD slot 508. */
export const CPU_ENTRY_AREA_BASE: VA = slotBase(-4);
/** `LDT_PGD_ENTRY` = -3 (4-level): PGD slot 509, per mm. */
export const LDT_BASE_ADDR: VA = slotBase(-3);
/** `ESPFIX_PGD_ENTRY` = -2: PGD slot 510. */
export const ESPFIX_BASE_ADDR: VA = slotBase(-2);
/** `KERNEL_PGD_BOUNDARY`: PGD slots from here map the kernel; below, user space. */
export const KERNEL_PGD_BOUNDARY = 256;

/** `CPU_ENTRY_AREA_RO_IDT`: the read-only IDT alias, one page at the base. */
export const CPU_ENTRY_AREA_RO_IDT: VA = CPU_ENTRY_AREA_BASE;
/** `CPU_ENTRY_AREA_PER_CPU`: per-CPU areas follow the IDT page. */
export const CPU_ENTRY_AREA_PER_CPU: VA = CPU_ENTRY_AREA_BASE + 4096;
/** `sizeof(struct cpu_entry_area)` in 4.16 (the stride in the ptdump sample). */
export const CPU_ENTRY_AREA_SIZE = 0x2c000;

/**
 * Offsets inside `struct cpu_entry_area` (4.15/4.16, x86-pti.md §6c): `gdt`
 * (ro), `entry_stack_page` (RW), `tss` (ro, 3 pages), `entry_trampoline`
 * (ro, x), then 6 RW pages: `exception_stacks` (20K: three IST stacks and the
 * 8K debug stack) and, on Intel, `cpu_debug_store` (`percpu_setup_debug_store`;
 * the AMD ptdump sample maps 20K there, the Intel one 24K). The model maps
 * all six, as on Intel, and calls them exception stacks. Then, on Intel,
 * `cpu_debug_buffers`: `bts_buffer` and `pebs_buffer` (16 pages each, not
 * present until perf reserves them; see ds.ts). 176K in all: the stride.
 */
export const CEA = { gdt: 0, entry_stack_page: 0x1000, tss: 0x2000, entry_trampoline: 0x5000, exception_stacks: 0x6000, bts_buffer: 0xc000, pebs_buffer: 0x1c000 } as const;
/** Pages per field. */
export const CEA_PAGES = { gdt: 1, entry_stack_page: 1, tss: 3, entry_trampoline: 1, exception_stacks: 6 } as const;
/** `get_cpu_entry_area(cpu)`. */
export const cpuEntryArea = (cpu: number): VA => CPU_ENTRY_AREA_PER_CPU + cpu * CPU_ENTRY_AREA_SIZE;

/** `TASK_SIZE_MAX` (4-level): the end of user space. */
export const TASK_SIZE_MAX: VA = va('0x00007ffffffff000');
/** The user VAs a workload may touch: slot n is `USER_SLOTS[n]`. Spread over distinct PGD/PMD/PT tables. */
export const USER_SLOTS: readonly VA[] = [
  va('0x400000'), va('0x401000'), va('0x402000'), va('0x600000'), va('0x7fffff000'), va('0x7ffffffde000'),
];

/** RAM modelled: 64 MiB from physical 0 (the image at 16 MiB; page allocations above it). */
export const RAM_SIZE = 64 << 20;
/** Direct-map alias of a physical address (`__va`). */
export const physToVirt = (pa: number): VA => PAGE_OFFSET + pa;
