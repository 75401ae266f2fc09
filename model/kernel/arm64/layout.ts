// The arm64 kernel memory map modelled: Linux 4.16, 4 KiB pages, 48-bit VA
// (Documentation/arm64/memory.txt; arch/arm64/include/asm/memory.h). Only a
// few pages of each region are populated; addresses match a 4.16 defconfig
// layout as in the v4.x ptdump samples (test-data/ptdump), KASLR off.

import { va, type VA } from '../../arch/va.ts';

/** `PAGE_OFFSET` for VA_BITS=48 (4.16): start of the linear map of all RAM. */
export const PAGE_OFFSET: VA = va('0xffff800000000000');
/** `KIMAGE_VADDR` = `MODULES_END` (4.16): the kernel image's link base. */
export const KIMAGE_VADDR: VA = va('0xffff000008000000');
/** `TEXT_OFFSET` (arch/arm64/Makefile, 4.16 default). */
export const TEXT_OFFSET = 0x80000;
/** `FIXADDR_TOP` = `PCI_IO_START - SZ_2M` (4.16, VA_BITS=48). */
export const FIXADDR_TOP: VA = va('0xffff7dfffec00000');
/**
 * `FIX_ENTRY_TRAMP_TEXT` (asm/fixmap.h). Its index depends on the config
 * (FIX_FDT spans 4 MiB of slots before it); 0x405 is a representative
 * value, and the invariants do not depend on it.
 */
export const FIX_ENTRY_TRAMP_TEXT = 0x405;
/** `FIX_ENTRY_TRAMP_DATA` = `FIX_ENTRY_TRAMP_TEXT - 1`: one page above the text (fixmap grows down). */
export const FIX_ENTRY_TRAMP_DATA = FIX_ENTRY_TRAMP_TEXT - 1;
/** `__fix_to_virt(idx)` = `FIXADDR_TOP - (idx << PAGE_SHIFT)`. */
export const fixToVirt = (idx: number): VA => FIXADDR_TOP - idx * 4096;
/** `TRAMP_VALIAS` = `__fix_to_virt(FIX_ENTRY_TRAMP_TEXT)`: the fixed VA of the entry trampoline. */
export const TRAMP_VALIAS: VA = fixToVirt(FIX_ENTRY_TRAMP_TEXT);

/** RAM: `PHYS_OFFSET` as on QEMU virt, 4 MiB (two level-2 blocks of the linear map). */
export const PHYS_OFFSET = 0x4000_0000;
export const RAM_SIZE = 4 << 20;
/** Where the image is loaded: `PHYS_OFFSET + TEXT_OFFSET`. */
export const PHYS_IMAGE = PHYS_OFFSET + TEXT_OFFSET;

/** Linear map alias of a physical address (`__phys_to_virt`). */
export const physToVirt = (pa: number): VA => PAGE_OFFSET + (pa - PHYS_OFFSET);

/** The user VAs a workload may touch: slot n is `USER_SLOTS[n]`. Spread over distinct L0/L2/L3 tables. */
export const USER_SLOTS: readonly VA[] = [
  va('0x400000'), va('0x401000'), va('0x402000'), va('0x600000'), va('0x7fffff000'), va('0xfffffffff000'),
];
