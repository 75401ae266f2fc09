// Workload events: plain data, robust to deletion (an event that does not
// apply in the current state is skipped), so shrinking stays valid.

import type { Prot } from './arm64/prot.ts';

export const SYSCALLS = ['getpid', 'getrandom', 'mmap', 'munmap', 'mprotect', 'fork', 'clone', 'exit', 'move_pages'] as const;
export type Syscall = (typeof SYSCALLS)[number];

/** Something software does: it runs kernel code on `cpu`. */
export type SoftwareEvent =
  /** The task on `cpu` makes a syscall. `slot` picks a user VA, `prot` a protection, `task` a target (move_pages). */
  | { readonly k: 'syscall'; readonly cpu: number; readonly nr: Syscall; readonly slot: number; readonly prot: Prot; readonly task: number }
  /** The task on `cpu` loads or stores at user VA slot `slot`. */
  | { readonly k: 'access'; readonly cpu: number; readonly op: 'load' | 'store'; readonly slot: number }
  /** A timer IRQ on `cpu`: at EL0, at EL1 inside a hook with IRQs unmasked, or in the idle loop. */
  | { readonly k: 'irq'; readonly cpu: number; readonly delay: number }
  /** A timer IRQ that makes `cpu` schedule runnable task number `to` (0 = idle). */
  | { readonly k: 'switch'; readonly cpu: number; readonly to: number };

/** Something the hardware does on its own, `delay` ops into the hook in flight. */
export type HardwareEvent =
  /** A speculative walk and TLB fill: even `va` picks from the kernel's VA catalogue, odd `va` a currently reachable leaf. */
  | { readonly k: 'fill'; readonly cpu: number; readonly va: number; readonly delay: number }
  /** Eviction of the `n`th TLB entry (mod size). */
  | { readonly k: 'evict'; readonly cpu: number; readonly n: number; readonly delay: number }
  /** One unsynchronised system register write (number `which` mod those pending) takes effect. */
  | { readonly k: 'sync'; readonly cpu: number; readonly which: number; readonly delay: number }
  /** One pending TLB invalidation completes early on `cpu`. */
  | { readonly k: 'land'; readonly cpu: number; readonly delay: number };

export type Event = SoftwareEvent | HardwareEvent;

export const isHardware = (e: Event): e is HardwareEvent => e.k === 'fill' || e.k === 'evict' || e.k === 'sync' || e.k === 'land';
