// Segment selectors and descriptor tables, as far as the model needs them:
// the implicit supervisor-mode reads of descriptors (SDM Vol. 3A §4.6,
// "accesses to the GDT or LDT to load a segment descriptor") that
// interrupt delivery, IRET and segment-register loads make through the
// current CR3, whatever the CPL. Selector values from Linux's 64-bit
// arch/x86/include/asm/segment.h. Not modelled: descriptor contents,
// limits and checks (every selector loaded is valid).

import type { VA } from '../va.ts';

/** `GDT_ENTRY_KERNEL_CS * 8`: the code segment of every IDT gate (`pack_gate(..., __KERNEL_CS)`). */
export const __KERNEL_CS = 2 * 8;
/** `GDT_ENTRY_DEFAULT_USER_DS * 8 + 3`: user SS (and SYSRET's SS). */
export const __USER_DS = 5 * 8 + 3;
/** `GDT_ENTRY_DEFAULT_USER_CS * 8 + 3`: 64-bit user CS. */
export const __USER_CS = 6 * 8 + 3;
/** Selector bit 2 (TI): the descriptor is in the LDT, not the GDT. */
export const SEGMENT_TI_MASK = 4;

/** Where a descriptor table with base `base` holds the descriptor for `selector` (index = selector >> 3, 8 bytes each). */
export const descriptorVa = (base: VA, selector: number): VA => base + (selector >> 3) * 8;
