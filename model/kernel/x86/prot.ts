// Page protections as arch/x86/include/asm/pgtable_types.h builds them
// (docs/sources/x86-pti.md §1b-1e), as entries. `_PAGE_GLOBAL` is a
// separate argument: 4.15 with PTI masks it out of every kernel mapping
// through `__supported_pte_mask` (§1d), 4.17 keeps it off the kernel image
// through `__default_kernel_pte_mask` (§1e) and sets it on the shared areas
// (§2c); without PTI every kernel mapping has it.

import { pte, type X86Pte } from '../../arch/x86/pte.ts';
import type { Prot } from '../task.ts';

/** `_PAGE_TABLE`: P | RW | USER | ACCESSED | DIRTY, for tables that map user space. */
export const PAGE_TABLE = (addr: number): X86Pte => pte(addr, { RW: true, US: true, A: true, D: true });
/** `_KERNPG_TABLE`: P | RW | ACCESSED | DIRTY, for kernel tables. */
export const KERNPG_TABLE = (addr: number): X86Pte => pte(addr, { RW: true, A: true, D: true });

/** `__PAGE_KERNEL` (P | RW | DIRTY | ACCESSED | NX), with `_PAGE_GLOBAL` when `G`. */
export const PAGE_KERNEL = (addr: number, G: boolean): X86Pte => pte(addr, { RW: true, D: true, A: true, NX: true, G });
/** `__PAGE_KERNEL_RO`: `__PAGE_KERNEL & ~_PAGE_RW`. */
export const PAGE_KERNEL_RO = (addr: number, G: boolean): X86Pte => pte(addr, { D: true, A: true, NX: true, G });
/** `__PAGE_KERNEL_RX`: `__PAGE_KERNEL_EXEC & ~_PAGE_RW` (text after `mark_rodata_ro`). */
export const PAGE_KERNEL_RX = (addr: number, G: boolean): X86Pte => pte(addr, { D: true, A: true, G });
/** `__PAGE_KERNEL_LARGE` and friends: the same with `_PAGE_PSE`, for 2 MiB and 1 GiB pages. */
export const large = (e: X86Pte): X86Pte => ({ ...e, PS: true });

/**
 * User pages, as `vm_get_page_prot` gives them (`protection_map`,
 * pgtable_types.h): `PAGE_READONLY` = P | USER | ACCESSED | NX,
 * `PAGE_READONLY_EXEC` without NX, `PAGE_SHARED` adds RW. A populated
 * writable page is dirty.
 */
export function userPage(addr: number, prot: Prot): X86Pte {
  return pte(addr, { US: true, A: true, RW: prot === 'rw', D: prot === 'rw', NX: prot !== 'rx' });
}
