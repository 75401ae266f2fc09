// Page protections, as arch/arm64/include/asm/pgtable-prot.h (4.16/4.17)
// builds them: `_PROT_DEFAULT = PTE_TYPE_PAGE | PTE_AF | PTE_SHARED`, plus
// `PTE_MAYBE_NG` (nG when `arm64_kernel_unmapped_at_el0()`), plus the
// memory type `PTE_ATTRINDX(MT_NORMAL)` with MT_NORMAL = 4 in 4.x kernels.
// Not modelled: PTE_WRITE/PTE_DIRTY (DBM, bit 51 and software bit 55); with
// hardware DBM off, writability is AP[2] alone.

import type { Block, LeafAttrs, Page } from '../../arch/arm64/descriptor.ts';

/** `MT_NORMAL` AttrIndx in 4.x kernels (proc.S MAIR table: NORMAL = 100). */
export const MT_NORMAL = 4;
/** AP[2:1] values: AP[1] is PTE_USER, AP[2] is PTE_RDONLY. */
export const AP_RW_EL1 = 0b00, AP_RW_ALL = 0b01, AP_RO_EL1 = 0b10, AP_RO_ALL = 0b11;

import type { Prot } from '../task.ts';
export type { Prot };

const base = (nG: boolean): Omit<LeafAttrs, 'AP' | 'PXN' | 'UXN'> =>
  ({ AttrIndx: MT_NORMAL, NS: false, SH: 3, AF: true, nG, Contiguous: false, POIndex: 0 });

const page = (OA: number, a: LeafAttrs): Page => ({ kind: 'page', OA, ...a });

/** `PAGE_KERNEL`: RW, never executable. */
export const PAGE_KERNEL = (OA: number, nG: boolean): Page => page(OA, { ...base(nG), AP: AP_RW_EL1, PXN: true, UXN: true });
/** `PAGE_KERNEL_RO`. */
export const PAGE_KERNEL_RO = (OA: number, nG: boolean): Page => page(OA, { ...base(nG), AP: AP_RO_EL1, PXN: true, UXN: true });
/** `PAGE_KERNEL_ROX`: kernel text. */
export const PAGE_KERNEL_ROX = (OA: number, nG: boolean): Page => page(OA, { ...base(nG), AP: AP_RO_EL1, PXN: false, UXN: true });
/** `PAGE_KERNEL_EXEC`: `PROT_NORMAL & ~PTE_PXN`, writable and executable (what `rodata=off` gives text). */
export const PAGE_KERNEL_EXEC = (OA: number, nG: boolean): Page => page(OA, { ...base(nG), AP: AP_RW_EL1, PXN: false, UXN: true });
/** `PROT_SECT_NORMAL`: a linear-map block. */
export const PROT_SECT_NORMAL = (OA: number, nG: boolean): Block => ({ kind: 'block', OA, ...base(nG), AP: AP_RW_EL1, PXN: true, UXN: true });

/** `PAGE_READONLY`, `PAGE_SHARED`, `PAGE_READONLY_EXEC` (vm_get_page_prot): user pages are always nG. */
export function userPage(OA: number, prot: Prot): Page {
  return page(OA, { ...base(true), AP: prot === 'rw' ? AP_RW_ALL : AP_RO_ALL, PXN: true, UXN: prot !== 'rx' });
}
