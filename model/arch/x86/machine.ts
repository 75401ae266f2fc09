// The x86-64 machine: CPUs sharing physical memory, and the semantics of each
// op and hardware event. TLB rules follow Intel SDM Vol. 3A §4.10 as quoted in
// docs/sources/x86-pti.md §7 (which entries each invalidation removes is in
// invalidate.ts; access rights in rights.ts). Effects that invariants judge
// (TLB fills, entry stores, accesses) are recorded in `effects` for the
// current step.
// Simplification: paging-structure reads see every store at once (x86 walks
// are coherent with stores; no store buffering is modelled). Not modelled:
// #GP and #PF delivery by the hardware (the kernel layer yields `exception`),
// the TLB invalidation a #PF performs for the faulting address.

import type { PhysMem } from '../phys.ts';
import type { VA } from '../va.ts';
import type { AccessEffect } from '../../view.ts';
import { CR3_ADDR_MASK, CR3_PCID_MASK, CR4_RESET, type Cr4 } from './cr.ts';
import { X86Cpu } from './cpu.ts';
import { invlpgInvalidates, invpcidInvalidates, movCr3Invalidates, movCr4Invalidates, type Invalidation } from './invalidate.ts';
import type { AccessKind, AccessResult, ExceptionType, X86Op } from './ops.ts';
import { INVALID, type Entry } from './pte.ts';
import { permCheck } from './rights.ts';
import { entryPa, type X86TlbEntry } from './tlb.ts';
import { walk as walkTables, type X86WalkOk, type X86WalkResult } from './walk.ts';

/** One translation the hardware could use for an access: from a TLB entry or a fresh walk. */
export interface X86Outcome {
  /** PA of the page reached (also given with a permission fault). */
  readonly pa?: number;
  /** Fault, if any: `translation` (not present, P = 0) or `permission` (SDM §4.7). */
  readonly fault?: 'translation' | 'permission';
  /** The TLB entry used or filled. */
  readonly entry?: X86TlbEntry;
  /** Where it came from, for reports (`TLB entry pcid=2 from pgd(mm 3)`); absent for a fresh walk. */
  readonly via?: string;
}

export type X86Effect =
  /** A TLB fill (`speculative` when no access asked for it). */
  | { readonly kind: 'fill'; readonly cpu: number; readonly entry: X86TlbEntry; readonly speculative: boolean }
  /** A paging-structure store: the entry's value before and after. */
  | { readonly kind: 'store'; readonly cpu: number; readonly table: number; readonly index: number; readonly level: number; readonly old: Entry; readonly desc: Entry }
  /** A memory access and every translation the hardware may have used for it. */
  | (AccessEffect & { readonly access: AccessKind | 'load' | 'store'; readonly outcomes: readonly X86Outcome[] });

/** Register state every CPU starts with. */
export interface X86Init {
  /** Initial CR3 (no bit 63). */
  readonly cr3: bigint;
  /** Initial CR4 flags. */
  readonly cr4: Cr4;
}

const isInvalid = (e: Entry): boolean => e.kind === 'invalid';

export class X86Machine {
  cpus: X86Cpu[];
  /** Effects of the step being executed; the runner clears this between steps. */
  effects: X86Effect[] = [];
  /** Monotonic counter ordering fills. */
  seq = 0;

  constructor(readonly mem: PhysMem<Entry>, ncpus: number, init: X86Init = { cr3: 0n, cr4: CR4_RESET }) {
    this.cpus = Array.from({ length: ncpus }, (_, i) => new X86Cpu(i, init.cr3, init.cr4));
  }

  /** An independent copy of the whole machine, for exhaustive exploration. */
  clone(): X86Machine {
    const m = new X86Machine(this.mem.clone(), 0);
    m.cpus = this.cpus.map((c) => c.clone());
    m.seq = this.seq;
    return m;
  }

  /** An entry as the walker reads it: straight from memory (coherent walks). */
  readEntry = (table: number, index: number): Entry => this.mem.readEntry(table, index) ?? INVALID;

  /** Walk `va` from `cpu`'s CR3. */
  walk(cpu: X86Cpu, va: VA): X86WalkResult { return walkTables(this.readEntry, cpu.root, va); }

  /** Execute one op on `cpu`; returns what the hook receives. */
  exec(cpu: X86Cpu, op: X86Op): unknown {
    switch (op.op) {
      case 'str': this.store(cpu, op.table, op.index, op.level, op.desc); return undefined;
      case 'mov-cr3': this.movCr3(cpu, op.value); return undefined;
      case 'read-cr3': return cpu.cr3;
      case 'mov-cr4': this.movCr4(cpu, op.value); return undefined;
      case 'invlpg': this.invalidate(cpu, invlpgInvalidates(op.va, cpu.pcid)); return undefined;
      case 'invpcid': this.invalidate(cpu, invpcidInvalidates(op)); return undefined;
      case 'exception': this.takeException(cpu, op.type); return undefined;
      case 'sysret': case 'iret': this.ret(cpu, op.op); return undefined;
      case 'cli': cpu.IF = false; return undefined;
      case 'sti': cpu.IF = true; return undefined;
      case 'access': return this.kernelAccess(cpu, op.kind, op.va, op.sym);
      case 'user': return this.userAccess(cpu, op.va, op.kind);
      case 'note': case 'hint': return undefined;
      // Software steps are the scheduler's business; by the time one reaches the machine it has taken effect.
      case 'lock': case 'unlock': case 'wait': return undefined;
    }
  }

  private store(cpu: X86Cpu, table: number, index: number, level: number, desc: Entry): void {
    const old = this.mem.readEntry(table, index) ?? INVALID;
    this.mem.writeEntry(table, index, desc, isInvalid);
    this.effects.push({ kind: 'store', cpu: cpu.id, table, index, level, old, desc });
  }

  /** Remove what an invalidating operation covers from `cpu`'s TLB, at once (SDM §4.10.4.1). */
  private invalidate(cpu: X86Cpu, which: Invalidation | undefined): void {
    if (which) cpu.tlb.invalidate(which);
  }

  /** MOV to CR3: load bits 51:0 (bit 63 is not stored), invalidating as invalidate.ts says. */
  private movCr3(cpu: X86Cpu, value: bigint): void {
    const which = movCr3Invalidates(cpu.cr4, value);
    cpu.cr3 = value & (CR3_ADDR_MASK | CR3_PCID_MASK);
    this.invalidate(cpu, which);
  }

  /**
   * MOV to CR4. Setting PCIDE with CR3[11:0] != 0 is a #GP (SDM §4.10.1; not
   * in the x86-pti.md excerpt), which the model reports as an error.
   */
  private movCr4(cpu: X86Cpu, value: Cr4): void {
    if (!cpu.cr4.PCIDE && value.PCIDE && (cpu.cr3 & CR3_PCID_MASK) !== 0n) {
      throw new Error(`#GP: MOV to CR4 setting PCIDE with CR3[11:0] = 0x${(cpu.cr3 & CR3_PCID_MASK).toString(16)}`);
    }
    const which = movCr4Invalidates(cpu.cr4, value);
    cpu.cr4 = { PCIDE: value.PCIDE, PGE: value.PGE };
    this.invalidate(cpu, which);
  }

  /**
   * Exception or interrupt delivery, or SYSCALL: to CPL 0 with IF cleared,
   * the old CPL and IF saved. Simplification: IF is cleared for every type,
   * which is what Linux arranges (its IDT gates are interrupt gates, and it
   * puts IF in the SYSCALL flag mask IA32_FMASK). CR3 does not change: the
   * PTI entry code switches it. The kernel layer yields the IDT, TSS and
   * stack accesses as separate `access` ops.
   */
  takeException(cpu: X86Cpu, _type: ExceptionType): void {
    cpu.saved.push({ CPL: cpu.CPL, IF: cpu.IF });
    cpu.CPL = 0; cpu.IF = false;
  }

  /** SYSRET or IRET: restore the saved CPL and IF. */
  private ret(cpu: X86Cpu, which: 'sysret' | 'iret'): void {
    const s = cpu.saved.pop();
    if (!s) throw new Error(`${which} with no exception taken`);
    cpu.CPL = s.CPL; cpu.IF = s.IF;
  }

  /**
   * A speculative walk and TLB fill of `va` on `cpu`: the SDM lets a
   * processor cache translations for prefetches and for speculative
   * accesses that never occur (§4.10.2.2, "Caching Translations in TLBs";
   * from memory, not in the x86-pti.md excerpt), so any translation the
   * paging structures give now may be cached. Not-present ones never are.
   */
  speculate(cpu: X86Cpu, va: VA): void {
    const w = this.walk(cpu, va);
    if (w.kind === 'ok') this.fill(cpu, w, true);
  }

  /** Cache a successful walk under the current PCID (§4.10.1); global if G and CR4.PGE (§4.10.2.4). */
  private fill(cpu: X86Cpu, w: X86WalkOk, speculative: boolean): X86TlbEntry {
    const at = w.path[w.path.length - 1];
    const entry: X86TlbEntry = {
      vaBase: w.vaBase, level: w.level, pa: w.leaf.addr, pcid: cpu.pcid, global: w.leaf.G && cpu.cr4.PGE,
      leaf: w.leaf, perms: w.perms, root: w.root, owner: this.mem.frame(w.root)?.name ?? 'unknown',
      from: { ...at, epoch: this.mem.frame(at.table)?.epoch }, seq: ++this.seq,
    };
    cpu.tlb.insert(entry);
    this.effects.push({ kind: 'fill', cpu: cpu.id, entry, speculative });
    return entry;
  }

  /**
   * Translate an access with user-mode (`el` 0) or supervisor-mode (`el` 1)
   * rights. Entries hitting `va` under the current PCID (or global) are all
   * possible outcomes (the SDM does not say which of several is used);
   * otherwise a walk fills the TLB. A walk that ends in a not-present entry
   * caches nothing (§4.10.2.2: only translations with P = 1 at every level).
   */
  translate(cpu: X86Cpu, va: VA, kind: AccessKind | 'load' | 'store', el: 0 | 1): X86Outcome[] {
    const pcid = cpu.pcid;
    const hit = cpu.tlb.lookup(va, pcid);
    if (hit.length) {
      return hit.map((e) => ({
        ...permCheck(e.perms, kind, el), pa: entryPa(e, va), entry: e,
        via: `TLB entry ${e.global ? `global (filled under pcid=${e.pcid})` : `pcid=${e.pcid}`} from ${e.owner}`,
      }));
    }
    const w = this.walk(cpu, va);
    if (w.kind === 'fault') return [{ fault: 'translation' }];
    const entry = this.fill(cpu, w, false);
    return [{ ...permCheck(w.perms, kind, el), pa: w.pa, entry }];
  }

  /**
   * An access by the kernel: supervisor-mode, whatever the CPL (as the
   * SDM's implicit supervisor-mode accesses to the IDT and TSS are, §4.6),
   * except `ldtr`/`sttr`, which are checked as user-mode accesses.
   */
  kernelAccess(cpu: X86Cpu, kind: AccessKind, va: VA, sym: string): AccessResult {
    return this.recordAccess(cpu, va, kind, kind === 'ldtr' || kind === 'sttr' ? 0 : 1, sym);
  }

  /** A load or store by user code at CPL 3. */
  userAccess(cpu: X86Cpu, va: VA, kind: 'load' | 'store'): AccessResult { return this.recordAccess(cpu, va, kind, 0, 'user'); }

  private recordAccess(cpu: X86Cpu, va: VA, kind: AccessKind | 'load' | 'store', el: 0 | 1, sym: string): AccessResult {
    const outcomes = this.translate(cpu, va, kind, el);
    this.effects.push({ kind: 'access', cpu: cpu.id, va, access: kind, el, sym, outcomes });
    if (outcomes.length > 1 && outcomes.some((o) => o.pa !== outcomes[0].pa)) return { fault: 'tlb-conflict' };
    const o = outcomes[0];
    return o.fault ? { fault: o.fault } : { pa: o.pa };
  }
}
