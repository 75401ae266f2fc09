// The x86-64 machine: CPUs sharing physical memory, and the semantics of each
// op and hardware event. TLB rules follow Intel SDM Vol. 3A §4.10 as quoted
// in docs/sources/x86-pti.md §7. Effects that invariants and cost reports
// read (fills, stores, accesses, flushes) are recorded in `effects`.
//
// Which entries each operation invalidates is in invalidate.ts (the minimum
// the SDM requires).
// Simplification: x86 is TSO and page walks are coherent with stores, so a
// `set-pte` is visible to every walker at once (no store buffer, unlike
// arm64). All invalidation is local to the executing CPU: x86 has no
// broadcast invalidation; software flushes remote CPUs with IPIs.
// Not modelled: SMEP and SMAP (supervisor accesses and fetches to user pages
// are allowed), protection keys, the processor setting A/D, #DF delivery.

import type { PhysMem } from '../phys.ts';
import { alignDown, va as parseVa, type VA } from '../va.ts';
import type { AccessEffect } from '../../view.ts';
import { X86Cpu } from './cpu.ts';
import { invlpgScope, invpcidScope, movCr3Scope, movCr4Scope, pageFaultScope, type Scope } from './invalidate.ts';
import type { ExceptionType, X86AccessKind, X86AccessResult, X86Op } from './ops.ts';
import { NOT_PRESENT, isNone, type X86Pte } from './pte.ts';
import { __KERNEL_CS, __USER_CS, __USER_DS, descriptorVa } from './segment.ts';
import { entryPa, tagText, type X86TlbEntry } from './tlb.ts';
import { isCanonical, walk, type X86Perms, type X86WalkOk, type X86WalkResult } from './walk.ts';

export { entryPa, hits } from './tlb.ts';

/** One translation the hardware could use for an access: from a TLB entry or a fresh walk. */
export interface X86Outcome {
  /** PA of the page reached (also given with a permission fault). */
  readonly pa?: number;
  /** Fault, if any (ops.ts `X86AccessResult`). */
  readonly fault?: 'translation' | 'reserved' | 'non-canonical' | 'permission';
  /** The TLB entry used or filled. */
  readonly entry?: X86TlbEntry;
  /** Where it came from, for reports (`TLB entry pcid=0x801 from pgd(mm 3)+user`); absent for a fresh walk. */
  readonly via?: string;
}

export type X86Effect =
  /** A TLB fill, and the cached entries it conflicts with (tlb.ts). */
  | { readonly kind: 'fill'; readonly cpu: number; readonly entry: X86TlbEntry; readonly conflicts: readonly X86TlbEntry[]; readonly speculative: boolean }
  /** A paging-structure store: the entry before and after. */
  | { readonly kind: 'store'; readonly cpu: number; readonly table: number; readonly index: number; readonly level: number; readonly old: X86Pte; readonly pte: X86Pte }
  /** A TLB invalidation (`how`: the instruction or event) and how many entries it removed. */
  | { readonly kind: 'flush'; readonly cpu: number; readonly how: string; readonly removed: number }
  | X86AccessEffect;

/** A memory access and every translation the hardware may have used for it (model/view.ts `AccessEffect`). */
export interface X86AccessEffect extends AccessEffect {
  /** `load`/`store` by user code; `read`, `write`, `fetch`, `uread`, `uwrite` by the kernel or the hardware. */
  readonly access: X86AccessKind | 'load' | 'store';
  /** Every translation the hardware may have used: one per hitting TLB entry, or the walk. */
  readonly outcomes: readonly X86Outcome[];
}

/** IDT vectors the model delivers: NMI 2, #PF 14, the first external vector 0x20 for device interrupts, `CALL_FUNCTION_VECTOR` 0xfc for IPIs. */
const VECTOR = { nmi: 2, fault: 14, irq: 0x20, ipi: 0xfc } as const;
/** 64-bit TSS layout (SDM Vol. 3A, "64-Bit TSS Format"): RSP0 at offset 4, IST1 at 0x24; NMI uses IST2. */
const TSS_RSP0 = 4, TSS_IST2 = 0x2c;
/** Walk faults as access faults (`translation` is P = 0, named as arm64's). */
const FAULT = { 'not-present': 'translation', reserved: 'reserved', 'non-canonical': 'non-canonical' } as const;

export class X86Machine {
  cpus: X86Cpu[];
  /** Effects of the step being executed; the runner clears this between steps. */
  effects: X86Effect[] = [];
  /** Monotonic counter ordering fills and invalidations. */
  seq = 0;

  constructor(readonly mem: PhysMem<X86Pte>, ncpus: number, init: { readonly CR3?: bigint; readonly CR4?: bigint } = {}) {
    this.cpus = Array.from({ length: ncpus }, (_, i) => new X86Cpu(i, init));
  }

  /** An independent copy of the whole machine, for exhaustive exploration. */
  clone(): X86Machine {
    const m = new X86Machine(this.mem.clone(), 0);
    m.cpus = this.cpus.map((c) => c.clone());
    m.seq = this.seq;
    return m;
  }

  /** An entry as the walker reads it: straight from memory (coherent walks). */
  readPte = (table: number, index: number): X86Pte => this.mem.readEntry(table, index) ?? NOT_PRESENT;

  /** Walk `va` from `cpu`'s CR3. */
  walk(cpu: X86Cpu, va: VA): X86WalkResult { return walk(this.readPte, cpu.root, va); }

  /** Execute one op on `cpu`; returns what the hook receives. */
  exec(cpu: X86Cpu, op: X86Op): unknown {
    switch (op.op) {
      case 'set-pte': this.setPte(cpu, op.table, op.index, op.level, op.pte); return undefined;
      case 'mov-cr3': this.privileged(cpu, op.op); this.movCr3(cpu, op.value); return undefined;
      case 'read-cr3': this.privileged(cpu, op.op); return cpu.CR3;
      case 'mov-cr4': this.privileged(cpu, op.op); this.movCr4(cpu, op.value); return undefined;
      case 'read-cr4': this.privileged(cpu, op.op); return cpu.CR4;
      case 'invlpg': this.privileged(cpu, op.op); this.flush(cpu, invlpgScope(cpu, op.va)); return undefined;
      case 'invpcid': this.privileged(cpu, op.op); this.flush(cpu, invpcidScope(cpu, op.type, op.pcid, op.va)); return undefined;
      case 'access': return this.kernelAccess(cpu, op.kind, op.va, op.sym);
      case 'exception': return this.takeException(cpu, op.type);
      case 'sysret': this.privileged(cpu, op.op); this.ret(cpu, true); return undefined;
      case 'iret': this.iret(cpu, op.ss); return undefined;
      case 'cli': this.privileged(cpu, op.op); cpu.IF = false; return undefined;
      case 'sti': this.privileged(cpu, op.op); cpu.IF = true; return undefined;
      case 'wrmsr': this.privileged(cpu, op.op); cpu.lstar = this.lstar(op.value); return undefined;
      case 'lgdt': this.privileged(cpu, op.op); cpu.gdt = op.base; return undefined;
      case 'lidt': this.privileged(cpu, op.op); cpu.idt = op.base; cpu.handlers = op.handlers; return undefined;
      case 'ltr': this.privileged(cpu, op.op); cpu.tss = op.tss; cpu.entryStack = op.sp0; cpu.ist = op.ist; return undefined;
      case 'ipi': this.ipi(cpu, op.target); return undefined;
      case 'user': return this.userAccess(cpu, op.va, op.kind);
      case 'note': case 'hint': return undefined;
      // Software steps are the scheduler's business; by the time one reaches the machine it has taken effect.
      case 'lock': case 'unlock': case 'wait': return undefined;
    }
  }

  /** Privileged instructions at CPL 3 raise #GP(0) (SDM Vol. 2, each instruction's exceptions); the model treats that as a bug in the caller. */
  private privileged(cpu: X86Cpu, what: string): void {
    if (cpu.CPL === 3) throw new Error(`#GP: ${what} at CPL 3 on cpu${cpu.id}`);
  }

  /** WRMSR to IA32_LSTAR: a non-canonical address is a #GP (SDM Vol. 2 WRMSR), thrown here. */
  private lstar(value: bigint): VA {
    const a = parseVa(value);
    if (!isCanonical(a)) throw new Error(`#GP: WRMSR IA32_LSTAR with non-canonical 0x${value.toString(16)}`);
    return a;
  }

  /** `native_set_pte` and friends: a plain store, visible to walkers at once. The all-zero entry is removed (`pte_clear`). */
  private setPte(cpu: X86Cpu, table: number, index: number, level: number, pte: X86Pte): void {
    const old = this.mem.readEntry(table, index) ?? NOT_PRESENT;
    this.mem.writeEntry(table, index, pte, isNone);
    this.effects.push({ kind: 'store', cpu: cpu.id, table, index, level, old, pte });
  }

  /** Invalidate `cpu`'s entries in `scope`, recording a flush effect (for cost reports, even when none go). */
  private flush(cpu: X86Cpu, scope: Scope | undefined): void {
    if (!scope) return;
    const removed = cpu.tlb.invalidate(scope.matches, ++this.seq);
    this.effects.push({ kind: 'flush', cpu: cpu.id, how: scope.how, removed });
  }

  /** MOV to CR3: takes effect at once (serializing), then invalidates as invalidate.ts says. */
  private movCr3(cpu: X86Cpu, operand: bigint): void {
    const { cr3, scope } = movCr3Scope(cpu, operand);
    cpu.CR3 = cr3;
    this.flush(cpu, scope);
  }

  /** MOV to CR4: likewise. */
  private movCr4(cpu: X86Cpu, operand: bigint): void {
    const { cr4, scope } = movCr4Scope(cpu, operand);
    cpu.CR4 = cr4;
    this.flush(cpu, scope);
  }

  /** A local APIC IPI: sets the interrupt pending on `target` (SDM Vol. 3A, "Issuing Interprocessor Interrupts"). */
  private ipi(cpu: X86Cpu, target: number): void {
    const t = this.cpus[target];
    if (!t) throw new Error(`cpu${cpu.id} sends an IPI to cpu${target}, which does not exist`);
    t.irqPending = true;
  }

  /**
   * SYSCALL, or an interrupt or exception through the IDT (SDM Vol. 3A,
   * "Exception and Interrupt Handling in 64-bit Mode"; Vol. 2 SYSCALL). SYSCALL
   * fetches from IA32_LSTAR, no stack switch, and loads CS and SS with fixed
   * values from IA32_STAR, reading no descriptor. An IDT delivery reads the
   * gate (at `idt` + 16 * vector), then the descriptor of the gate's code
   * segment in the GDT (`__KERNEL_CS`), and on a stack switch (from CPL 3 through
   * TSS.RSP0, or for an NMI always through its IST) reads the TSS and pushes
   * the frame below the new stack top, then fetches the handler. These are
   * supervisor-mode accesses through the CURRENT CR3: under PTI, the user
   * page tables. A push to the current kernel stack (CPL 0, not an NMI) is
   * not modelled. An IRQ needs IF = 1 (else it is not delivered: thrown) and
   * clears the pending IPI. IF is cleared in every case (Linux uses
   * interrupt gates and puts IF in IA32_FMASK). The old CPL and IF are
   * saved. A fault on the way would be a #DF: the first one is returned and
   * the rest skipped (#DF delivery is not modelled).
   */
  takeException(cpu: X86Cpu, type: ExceptionType): X86AccessResult {
    if ((type === 'irq' || type === 'ipi') && !cpu.IF) throw new Error(`cpu${cpu.id} takes an IRQ with RFLAGS.IF = 0`);
    const from = cpu.CPL;
    cpu.saved.push({ CPL: cpu.CPL, IF: cpu.IF });
    cpu.CPL = 0; cpu.IF = false;
    if (type === 'syscall') return this.implicit(cpu, 'fetch', cpu.lstar, 'IA32_LSTAR');
    if (type === 'ipi') cpu.irqPending = false; // the IPI's IRR bit
    const vector = VECTOR[type];
    const steps: [X86AccessKind, VA, string][] = [
      ['read', cpu.idt + 16 * vector, `IDT[${vector}]`], ['read', descriptorVa(cpu.gdt, __KERNEL_CS), 'GDT[__KERNEL_CS]'],
    ];
    if (type === 'nmi') steps.push(['read', cpu.tss + TSS_IST2, 'TSS.IST2'], ['write', cpu.ist - 8, 'NMI frame on IST stack']);
    else if (from === 3) steps.push(['read', cpu.tss + TSS_RSP0, 'TSS.RSP0'], ['write', cpu.entryStack - 8, 'frame on entry stack']);
    for (const [kind, va, sym] of steps) {
      const r = this.implicit(cpu, kind, va, sym);
      if (r.fault) return r;
    }
    return this.implicit(cpu, 'fetch', cpu.handlers[type === 'ipi' ? 'irq' : type], `${type} handler`);
  }

  /** An implicit supervisor-mode access (§4.6: IDT, TSS, stack pushes, whatever the CPL). */
  private implicit(cpu: X86Cpu, kind: X86AccessKind, va: VA, sym: string): X86AccessResult {
    return this.recordAccess(cpu, va, kind, 0, sym);
  }

  /**
   * IRET: the return, then the descriptor loads of the new CS (GDT) and, to
   * CPL 3, SS (at `ss`, or GDT[__USER_DS]); implicit supervisor-mode reads
   * through the CR3 now loaded (under PTI, the user one). The frame pop is
   * the kernel layer's access before the op. A fault here would be a #PF
   * or #GP on the IRET (Linux: `bad_iret`): recorded, not delivered.
   */
  private iret(cpu: X86Cpu, ss: VA | undefined): void {
    this.ret(cpu, false);
    if (cpu.CPL === 0) { this.implicit(cpu, 'iread', descriptorVa(cpu.gdt, __KERNEL_CS), 'GDT[__KERNEL_CS] (iretq)'); return; }
    this.implicit(cpu, 'iread', descriptorVa(cpu.gdt, __USER_CS), 'GDT[__USER_CS] (iretq)');
    if (ss === undefined) this.implicit(cpu, 'iread', descriptorVa(cpu.gdt, __USER_DS), 'GDT[__USER_DS] (iretq)');
    else this.implicit(cpu, 'iread', ss, 'LDT: the SS descriptor (iretq)');
  }

  /** SYSRET (to CPL 3) or IRET (to the saved CPL), restoring the saved IF. */
  private ret(cpu: X86Cpu, sysret: boolean): void {
    const s = cpu.saved.pop();
    if (!s) throw new Error(`${sysret ? 'sysret' : 'iret'} on cpu${cpu.id} with nothing saved`);
    cpu.CPL = sysret ? 3 : s.CPL; cpu.IF = s.IF;
  }

  /**
   * A speculative walk and TLB fill of `va` on `cpu`: the processor may
   * cache any translation the paging structures give, whether or not an
   * access uses it (§4.10.2.3, "Details of TLB Use"; prefetches and
   * speculative execution). Faulting walks cache nothing.
   */
  speculate(cpu: X86Cpu, va: VA): X86TlbEntry | undefined {
    const w = this.walk(cpu, va);
    return w.kind === 'ok' ? this.fill(cpu, w, true) : undefined;
  }

  /** Cache a successful walk under the current PCID (§4.10.1); global if G and CR4.PGE (§4.10.2.4). */
  private fill(cpu: X86Cpu, w: X86WalkOk, speculative: boolean): X86TlbEntry {
    const at = w.path[w.path.length - 1];
    const entry: X86TlbEntry = {
      vaBase: w.vaBase, level: w.level, pa: alignDown(w.leaf.addr, w.size), pcid: cpu.pcid, global: w.leaf.G && cpu.PGE,
      leaf: w.leaf, perms: w.perms, root: w.root, owner: this.mem.frame(w.root)?.name ?? 'unknown',
      from: { ...at, epoch: this.mem.frame(at.table)?.epoch }, seq: ++this.seq,
    };
    const conflicts = cpu.tlb.insert(entry);
    this.effects.push({ kind: 'fill', cpu: cpu.id, entry, conflicts, speculative });
    return entry;
  }

  /**
   * Translate an access checked as a user-mode (`cpl` 3) or supervisor-mode
   * (`cpl` 0) access (§4.6). Entries hitting `va` under the current PCID (or
   * global) are all possible outcomes (the SDM does not say which of several
   * is used); otherwise a walk fills the TLB, even when the access then fails
   * its permission check (the walk succeeded).
   */
  translate(cpu: X86Cpu, va: VA, kind: X86AccessKind | 'load' | 'store', cpl: 0 | 3): X86Outcome[] {
    const hit = cpu.tlb.lookup(va, cpu.pcid);
    if (hit.length) return hit.map((e) => ({ ...permCheck(e.perms, kind, cpl), pa: entryPa(e, va), entry: e, via: `TLB entry ${tagText(e)} from ${e.owner}` }));
    const w = this.walk(cpu, va);
    if (w.kind === 'fault') return [{ fault: FAULT[w.reason] }];
    const entry = this.fill(cpu, w, false);
    return [{ ...permCheck(w.perms, kind, cpl), pa: w.pa, entry }];
  }

  /** An access by the kernel at the current CPL; `uread`/`uwrite` are judged as user-mode accesses (recorded at el 0), `iread`/`iwrite` as supervisor-mode whatever the CPL. */
  kernelAccess(cpu: X86Cpu, kind: X86AccessKind, va: VA, sym: string): X86AccessResult {
    return this.recordAccess(cpu, va, kind, kind === 'uread' || kind === 'uwrite' ? 3 : kind === 'iread' || kind === 'iwrite' ? 0 : cpu.CPL, sym);
  }

  /** A load or store by user code at CPL 3. */
  userAccess(cpu: X86Cpu, va: VA, kind: 'load' | 'store'): X86AccessResult { return this.recordAccess(cpu, va, kind, 3, 'user'); }

  /**
   * Record an access and give the hook its result. A #PF invalidates the
   * faulting page (invalidate.ts `pageFaultScope`); a #GP invalidates nothing.
   */
  private recordAccess(cpu: X86Cpu, va: VA, kind: X86AccessKind | 'load' | 'store', cpl: 0 | 3, sym: string): X86AccessResult {
    const outcomes = this.translate(cpu, va, kind, cpl);
    this.effects.push({ kind: 'access', cpu: cpu.id, va, access: kind, el: cpl === 3 ? 0 : 1, sym, outcomes });
    if (outcomes.length > 1 && outcomes.some((o) => o.pa !== outcomes[0].pa)) return { fault: 'tlb-conflict' };
    const o = outcomes[0];
    if (!o.fault) return { pa: o.pa };
    if (o.fault !== 'non-canonical') this.flush(cpu, pageFaultScope(cpu, va));
    return { fault: o.fault };
  }
}

/**
 * Access rights (SDM §4.6.1) with CR0.WP = 1 and IA32_EFER.NXE = 1, as Linux
 * sets them: user-mode accesses need U/S everywhere; writes need R/W
 * everywhere in either mode; fetches need XD clear everywhere. Supervisor
 * reads may touch any page (SMAP not modelled) and supervisor fetches from
 * user pages are allowed (SMEP not modelled).
 */
export function permCheck(p: X86Perms, kind: X86AccessKind | 'load' | 'store', cpl: 0 | 3): { fault?: 'permission' } {
  const write = kind === 'write' || kind === 'uwrite' || kind === 'iwrite' || kind === 'store';
  const ok = (cpl === 0 || p.user) && (!write || p.write) && (kind !== 'fetch' || !p.nx);
  return ok ? {} : { fault: 'permission' };
}
