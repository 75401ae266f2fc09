// Workload events: plain data, robust to deletion (an event that does not
// apply in the current state is skipped), so shrinking stays valid. A
// software event starts kernel code on its CPU (after that CPU's previous
// code finishes); `run` events choose which CPU steps next, so code on
// different CPUs interleaves; what is still in flight at the end runs to
// completion, CPU by CPU.

import type { Prot } from './task.ts';

export const SYSCALLS = ['getpid', 'getrandom', 'mmap', 'munmap', 'mprotect', 'fork', 'clone', 'exit', 'move_pages', 'modify_ldt', 'perf_event_open', 'close'] as const;
export type Syscall = (typeof SYSCALLS)[number];

/** Something software does: it runs kernel code on `cpu`. */
export type SoftwareEvent =
  /** The task on `cpu` makes a syscall. `slot` picks a user VA, `prot` a protection, `task` a target (move_pages). */
  | { readonly k: 'syscall'; readonly cpu: number; readonly nr: Syscall; readonly slot: number; readonly prot: Prot; readonly task: number }
  /** The task on `cpu` loads or stores at user VA slot `slot`. */
  | { readonly k: 'access'; readonly cpu: number; readonly op: 'load' | 'store'; readonly slot: number }
  /** A timer IRQ on `cpu`: taken at EL0, in the idle loop, or (if kernel code is in flight) as soon as IRQs are unmasked. */
  | { readonly k: 'irq'; readonly cpu: number }
  /** A timer IRQ that makes `cpu` schedule runnable task number `to` (0 = idle). */
  | { readonly k: 'switch'; readonly cpu: number; readonly to: number }
  /** An NMI on `cpu` (x86; not maskable, so it lands between any two ops). Other architectures ignore it. */
  | { readonly k: 'nmi'; readonly cpu: number }
  /** The task on `cpu` loads an LDT selector into DS or SS (x86, once its mm has an LDT: `mov %ax, %ss`). Other architectures ignore it. */
  | { readonly k: 'segment'; readonly cpu: number; readonly reg: 'ds' | 'ss' };

/** Something the hardware does on its own, between two ops of whatever code is in flight. */
export type HardwareEvent =
  /** A speculative walk and TLB fill: even `va` picks from the kernel's VA catalogue, odd `va` a currently reachable leaf. */
  | { readonly k: 'fill'; readonly cpu: number; readonly va: number }
  /** Eviction of the `n`th TLB entry (mod size). */
  | { readonly k: 'evict'; readonly cpu: number; readonly n: number }
  /** One unsynchronised system register write (number `which` mod those pending) takes effect. */
  | { readonly k: 'sync'; readonly cpu: number; readonly which: number }
  /** One pending TLB invalidation completes early on `cpu`. */
  | { readonly k: 'land'; readonly cpu: number }
  /** `cpu`'s oldest page-table store not yet visible to walkers becomes visible early. */
  | { readonly k: 'drain'; readonly cpu: number };

/** The schedule: CPU `cpu` runs `n` more ops of the kernel code in flight on it. */
export interface RunEvent { readonly k: 'run'; readonly cpu: number; readonly n: number }

export type Event = SoftwareEvent | HardwareEvent | RunEvent;

export const isHardware = (e: Event): e is HardwareEvent => e.k === 'fill' || e.k === 'evict' || e.k === 'sync' || e.k === 'land' || e.k === 'drain';
