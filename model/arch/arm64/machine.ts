// The arm64 machine: CPUs sharing physical memory, and the semantics of each
// op and hardware event. Effects that invariants judge (TLB fills, accesses,
// conflicts) are recorded in `effects` for the current step.

import type { PhysMem } from '../phys.ts';
import { alignDown, isUpper, type VA } from '../va.ts';
import { INVALID, levelSize, type Descriptor } from './descriptor.ts';
import type { AccessKind, AccessResult, Op } from './ops.ts';
import { Cpu } from './cpu.ts';
import { walkFrom, type AddressDescriptor, type WalkResult } from './walk.ts';
import { entryPa, type TlbEntry } from './tlb.ts';
import { tlbiMatches, tlbiMatchesWalk, type PendingTlbi } from './tlbi.ts';
import type { SysReg } from './sysreg.ts';
import { StoreBuffer } from './stores.ts';
import type { AccessEffect } from '../../view.ts';
import type { WalkEntry } from './walkcache.ts';

/** One translation the hardware could use for an access: from a TLB entry or a fresh walk. */
export interface Outcome {
  /** PA reached, if no fault. */
  readonly pa?: number;
  /** Fault, if any. */
  readonly fault?: 'translation' | 'access-flag' | 'permission';
  /** The TLB entry used, if the translation came from the TLB. */
  readonly entry?: TlbEntry;
  /** The same, for reports. */
  readonly via?: string;
}

export type Effect =
  /** A TLB fill, and the entries (or walk-cache entries: a table where this is a block) it conflicts with. */
  | { readonly kind: 'fill'; readonly cpu: number; readonly entry: TlbEntry; readonly conflicts: readonly (TlbEntry | WalkEntry)[]; readonly speculative: boolean }
  /** A walk-cache fill, and the cached entries it conflicts with (another table, or a block, for one VA range). */
  | { readonly kind: 'walk-fill'; readonly cpu: number; readonly entry: WalkEntry; readonly conflicts: readonly (WalkEntry | TlbEntry)[] }
  /** A page-table store: the entry's value before and after. */
  | { readonly kind: 'store'; readonly cpu: number; readonly table: number; readonly index: number; readonly level: number; readonly old: Descriptor; readonly desc: Descriptor }
  /** A memory access and every translation the hardware may have used for it. */
  | (AccessEffect & { readonly access: AccessKind | 'load' | 'store'; readonly outcomes: readonly Outcome[] });

export class Machine {
  cpus: Cpu[];
  /** Effects of the step being executed; the runner clears this between steps. */
  effects: Effect[] = [];
  /** Broadcast or local TLB maintenance not yet complete on some PE. */
  pendingTlbi: PendingTlbi[] = [];
  /** Monotonic counter ordering fills and TLBI issue. */
  seq = 0;
  /** Page-table stores not yet visible to walkers. */
  stores: StoreBuffer;

  constructor(readonly mem: PhysMem<Descriptor>, ncpus: number, init: Record<SysReg, bigint>, readonly asidBits: number) {
    this.cpus = Array.from({ length: ncpus }, (_, i) => new Cpu(i, init, asidBits));
    this.stores = new StoreBuffer(mem);
  }

  /** An independent copy of the whole machine, for exhaustive exploration. */
  clone(): Machine {
    const mem = this.mem.clone();
    const m = new Machine(mem, 0, this.cpus[0].regs, this.asidBits);
    m.cpus = this.cpus.map((c) => c.clone());
    m.pendingTlbi = [...this.pendingTlbi];
    m.seq = this.seq;
    m.stores = this.stores.clone(mem);
    return m;
  }

  /** A descriptor as every table walker is guaranteed to see it now (stores.ts). */
  readDesc = (table: number, index: number): Descriptor => this.stores.read(table, index);

  /**
   * `AArch64.S1Walk` as this PE does it: from the deepest walk-cache entry
   * for the VA under the current ASID if there is one, else from the TTBR.
   * Table descriptors read from memory are cached (walk-fill effects).
   */
  walk(cpu: Cpu, va: VA): WalkResult {
    const p = cpu.params, root = isUpper(va) ? p.ttbr1.BADDR : p.ttbr0.BADDR;
    const cached = cpu.walkCache.deepest(va, p.asid);
    const start = cached[cached.length - 1];
    const read = (table: number, index: number): Descriptor => this.stores.read(table, index, cpu.id);
    const w = start ? walkFrom(read, root, va, start.level + 1, start.next, start.perms) : walkFrom(read, root, va);
    this.derivedSeq = this.doomedSeq(cpu, cached);
    for (const t of w.tables) {
      const entry: WalkEntry = {
        vaBase: alignDown(va, levelSize(t.at.level)), level: t.at.level, next: t.next, asid: p.asid, perms: t.perms,
        from: { ...t.at, epoch: this.mem.frame(t.at.table)?.epoch }, owner: this.mem.frame(root)?.name ?? 'unknown', seq: this.derivedSeq ?? ++this.seq,
      };
      const conflicts = [...cpu.walkCache.insert(entry), ...cpu.tlb.bucket(entry.vaBase, entry.level).filter((x) => x.asid === undefined || x.asid === entry.asid)];
      this.effects.push({ kind: 'walk-fill', cpu: cpu.id, entry, conflicts });
    }
    return w;
  }

  /**
   * Entries a walk derives from a stale cached walk-cache entry (memory no
   * longer holds that table descriptor) that a pending TLBI will remove are
   * no newer than that entry, so the TLBI's completion
   * removes those it matches too: once it is complete, no access uses the
   * in-scope old translation information (R_LXHLD,
   * docs/sources/arm64-asid-and-arm-arm.md). Otherwise a walk between the
   * TLBI and its DSB would refill from the stale entry and outlive the TLBI.
   * A walk through a cached entry that still matches memory is a fresh walk
   * (an identical refill), newer than the TLBI, and survives it.
   */
  private doomedSeq(cpu: Cpu, cached: readonly WalkEntry[]): number | undefined {
    if (!cached.length || !this.pendingTlbi.length) return undefined; // the usual case, on every walk
    const stale = (e: WalkEntry): boolean => {
      const d = this.stores.read(e.from.table, e.from.index, cpu.id);
      return d.kind !== 'table' || d.NLTA !== e.next || this.mem.frame(e.from.table)?.epoch !== e.from.epoch;
    };
    const doomed = cached.filter((e) => stale(e) && this.pendingTlbi.some((t) => t.target === cpu.id && t.seq > e.seq && tlbiMatchesWalk(t.op, e)));
    return doomed.length ? Math.min(...doomed.map((e) => e.seq)) : undefined;
  }

  /** Set by `walk` for the fill that follows it (see doomedSeq). */
  private derivedSeq: number | undefined;

  /** A page-table store: visible to software now, to walkers after a DSB (stores.ts). */
  private storeDesc(cpu: Cpu, table: number, index: number, level: number, desc: Descriptor): void {
    const old = this.mem.readEntry(table, index) ?? INVALID;
    this.stores.store(cpu.id, table, index, desc);
    this.effects.push({ kind: 'store', cpu: cpu.id, table, index, level, old, desc });
  }

  /** The hardware making one of `cpu`'s pending page-table stores visible to walkers early. */
  drain(cpu: Cpu): boolean { return this.stores.drainOne(cpu.id); }

  /**
   * Execute one op on `cpu`; returns what the hook receives. A descriptor
   * store is `str` (C code's store through the table's linear-map alias;
   * simplification: that address is not translated, as swapper's linear map
   * maps every table read-write at EL1) or `strd`/`ldrd` through an explicit
   * address: a VA translated at the CPU's EL with SCTLR_EL1.M = 1, a PA with
   * M = 0 (the MMU-off and fixmap nG rewrites, whose addressing is the point).
   */
  exec(cpu: Cpu, op: Op): unknown {
    switch (op.op) {
      case 'str': this.storeDesc(cpu, op.table, op.index, op.level, op.desc); return undefined;
      case 'ldrd': {
        const r = this.kernelAccess(cpu, 'ldr', op.va, op.sym);
        return r.pa === undefined ? undefined : this.mem.readEntry(r.pa, (op.va % 4096) / 8) ?? INVALID;
      }
      case 'strd': {
        const r = this.kernelAccess(cpu, 'str', op.va, op.sym);
        if (r.pa === undefined) return undefined;
        if (!this.mem.frame(r.pa)?.table) throw new Error(`descriptor store lands in 0x${r.pa.toString(16)}, which is not a page table`);
        this.storeDesc(cpu, r.pa, (op.va % 4096) / 8, op.level, op.desc);
        return undefined;
      }
      case 'msr': cpu.pending.set(op.reg, op.value); return undefined;
      case 'mrs': return cpu.read(op.reg);
      case 'tlbi': this.issueTlbi(cpu, op); return undefined;
      case 'dsb': this.dsb(cpu, op.option); return undefined;
      case 'isb': cpu.synchronise(); return undefined;
      case 'eret': this.eret(cpu); return undefined;
      case 'daif': cpu.I = op.mask; return undefined;
      case 'access': return this.kernelAccess(cpu, op.kind, op.va, op.sym);
      case 'exception': return this.takeException(cpu, op.type);
      case 'user': return this.userAccess(cpu, op.va, op.kind);
      case 'note': case 'hint': return undefined;
      // Software steps are the scheduler's business; by the time one reaches the machine it has taken effect.
      case 'lock': case 'unlock': case 'wait': return undefined;
    }
  }

  /**
   * Exception entry (Arm ARM D1.3.1): save PSTATE, mask IRQs, go to EL1, and
   * fetch from VBAR_EL1 + offset (D1.3.2 Table D1-7: lower EL AArch64 at
   * 0x400/0x480, current EL with SP_ELx at 0x200/0x280). Exception entry is
   * a context synchronization event. Returns the vector fetch result.
   */
  takeException(cpu: Cpu, type: 'sync' | 'irq'): AccessResult {
    const offset = (cpu.EL === 0 ? 0x400 : 0x200) + (type === 'irq' ? 0x80 : 0);
    cpu.saved.push({ EL: cpu.EL, I: cpu.I });
    cpu.EL = 1; cpu.I = true;
    cpu.synchronise();
    const vbar = Number(cpu.regs.VBAR_EL1 & ((1n << 49n) - 1n));
    return this.kernelAccess(cpu, 'fetch', vbar + offset, `VBAR_EL1+${offset.toString(16)}`);
  }

  /** `eret`: restore the saved PSTATE; a context synchronization event. */
  private eret(cpu: Cpu): void {
    const s = cpu.saved.pop();
    if (!s) throw new Error('eret with no exception taken');
    cpu.synchronise();
    cpu.EL = s.EL; cpu.I = s.I;
  }

  /** A speculative walk and TLB fill of `va` on `cpu` (Arm ARM R_SQBCS): any translation reachable now. */
  speculate(cpu: Cpu, va: VA): void {
    if (!cpu.params.M) return;
    const w = this.walk(cpu, va);
    if (w.kind === 'ok') this.fill(cpu, w, true);
  }

  /** Cache a successful walk, tagged with the current ASID unless global (R_QGKGF). */
  private fill(cpu: Cpu, w: AddressDescriptor, speculative: boolean): TlbEntry {
    const entry: TlbEntry = {
      vaBase: w.vaBase, level: w.level, oa: w.leaf.OA,
      asid: w.leaf.nG ? cpu.params.asid : undefined, leaf: w.leaf, perms: w.perms, root: w.root,
      owner: this.mem.frame(w.root)?.name ?? 'unknown',
      from: { ...w.path[w.path.length - 1], epoch: this.mem.frame(w.path[w.path.length - 1].table)?.epoch }, seq: this.derivedSeq ?? ++this.seq,
    };
    // A block where a walk cache holds a table for the same range is the block/table conflict of R_WHZWS.
    const conflicts = [...cpu.tlb.insert(entry), ...(w.level < 3 ? cpu.walkCache.at(w.vaBase, w.level, entry.asid) : [])];
    this.effects.push({ kind: 'fill', cpu: cpu.id, entry, conflicts, speculative });
    return entry;
  }

  /**
   * Translate an access by `cpu` at its current EL (or EL0 for ldtr/sttr and
   * user accesses). The TLB is used when it hits; otherwise a walk fills it.
   * Several hitting entries are all possible outcomes (D8.17.1: behaviour
   * consistent with one of the matching entries); all are recorded.
   */
  translate(cpu: Cpu, va: VA, kind: AccessKind | 'load' | 'store', el: 0 | 1): Outcome[] {
    // SCTLR_EL1.M = 0: VA = PA, no TLB (D8.2.10); the upper half is beyond any PA (an address size fault).
    if (!cpu.params.M) return [isUpper(va) ? { fault: 'translation' } : { pa: va - (va % 4096) }];
    const hit = cpu.tlb.lookup(va, cpu.params.asid);
    if (hit.length) return hit.map((e) => ({ ...permCheck(e.perms, kind, el), pa: entryPa(e, va), entry: e, via: `TLB entry ${e.asid === undefined ? 'global' : `asid=${e.asid}`} from ${e.owner}` }));
    const w = this.walk(cpu, va);
    if (w.kind === 'fault') return [{ fault: w.statuscode }];
    const entry = this.fill(cpu, w, false);
    return [{ ...permCheck(w.perms, kind, el), pa: w.pa, entry }];
  }

  /** An access by the kernel (or `ldtr`/`sttr` on its behalf): recorded, and returned to the hook. */
  kernelAccess(cpu: Cpu, kind: AccessKind, va: VA, sym: string): AccessResult {
    const el = kind === 'ldtr' || kind === 'sttr' ? 0 : cpu.EL;
    return this.recordAccess(cpu, va, kind, el, sym);
  }

  /** A load or store by user code at EL0. */
  userAccess(cpu: Cpu, va: VA, kind: 'load' | 'store'): AccessResult { return this.recordAccess(cpu, va, kind, 0, 'user'); }

  private recordAccess(cpu: Cpu, va: VA, kind: AccessKind | 'load' | 'store', el: 0 | 1, sym: string): AccessResult {
    const outcomes = this.translate(cpu, va, kind, el);
    this.effects.push({ kind: 'access', cpu: cpu.id, va, access: kind, el, sym, outcomes });
    if (outcomes.length > 1 && outcomes.some((o) => o.pa !== outcomes[0].pa)) return { fault: 'tlb-conflict' };
    const o = outcomes[0];
    return o.fault ? { fault: o.fault } : { pa: o.pa };
  }

  private issueTlbi(cpu: Cpu, op: Extract<Op, { op: 'tlbi' }>): void {
    const targets = op.is ? this.cpus.map((c) => c.id) : [cpu.id];
    const seq = ++this.seq;
    const masked = op.asid === undefined ? op : { ...op, asid: op.asid % 2 ** this.asidBits };
    for (const target of targets) this.pendingTlbi.push({ issuer: cpu.id, target, op: masked, seq });
  }

  /**
   * DSB makes this PE's page-table stores visible to the walkers of its
   * domain (stores.ts: NSH its own, ISH and SY every PE's) and
   * completes its TLB maintenance (Arm ARM R_PSMWS: the DSB must
   * apply to loads and stores, so `ishst` does not; NSH suffices only for
   * maintenance that applies to this PE alone; R_YNJCP: other PEs are only
   * guaranteed done after the issuer's DSB).
   */
  private dsb(cpu: Cpu, option: string): void {
    this.stores.complete(cpu.id, option.startsWith('nsh') ? 'nsh' : 'ish');
    if (option.endsWith('st')) return;
    const local = option === 'nsh';
    this.completeTlbi((p) => p.issuer === cpu.id && (!local || (p.target === cpu.id && !p.op.is)));
  }

  /** The hardware finishing one pending TLBI on `cpu` early (R_YNJCP: "can complete at any time after it is issued"). */
  land(cpu: Cpu): boolean {
    const p = this.pendingTlbi.find((t) => t.target === cpu.id);
    if (!p) return false;
    this.completeTlbi((t) => t === p);
    return true;
  }

  private completeTlbi(which: (p: PendingTlbi) => boolean): void {
    const done = this.pendingTlbi.filter(which);
    if (!done.length) return;
    this.pendingTlbi = this.pendingTlbi.filter((p) => !which(p));
    for (const p of done) {
      this.cpus[p.target].tlb.invalidate((e) => tlbiMatches(p.op, e), p.seq);
      this.cpus[p.target].walkCache.invalidate((e) => tlbiMatchesWalk(p.op, e), p.seq);
    }
  }
}

/**
 * Permission check of Arm ARM D8.4 for one translation. A location writable
 * at EL0 is privileged execute-never (D8.4.1, "Instruction access
 * permissions"). Not modelled: hardware PAN (SW PAN is a kernel option), WXN.
 */
function permCheck(p: { el0: boolean; write: boolean; uxn: boolean; pxn: boolean }, kind: AccessKind | 'load' | 'store', el: 0 | 1): { fault?: 'permission' } {
  const write = kind === 'str' || kind === 'sttr' || kind === 'store';
  const ok = (el === 0 ? p.el0 : true) && (!write || p.write)
    && (kind !== 'fetch' || (el === 0 ? !p.uxn : !p.pxn && !(p.el0 && p.write)));
  return ok ? {} : { fault: 'permission' };
}

