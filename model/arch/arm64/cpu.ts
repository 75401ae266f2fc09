// Per-CPU (PE) state: system registers with not-yet-synchronised writes,
// PSTATE, the saved state of taken exceptions, and the TLB.

import { s1Params, type S1TTWParams, type SysReg } from './sysreg.ts';
import { Tlb, type TlbEntry } from './tlb.ts';
import { WalkCache, type WalkEntry } from './walkcache.ts';

/** What exception entry saves and `eret` restores (SPSR_EL1.M and .I). */
export interface SavedPstate {
  /** Exception level to return to. */
  readonly EL: 0 | 1;
  /** IRQ mask to restore. */
  readonly I: boolean;
}

export class Cpu {
  /** Register values in effect for indirect reads (walks, vector fetch). */
  readonly regs: Record<SysReg, bigint>;
  /**
   * Direct writes not yet synchronised. Arm ARM D24.1 (synchronization
   * requirements): a walk's indirect read of TTBRn/TCR/SCTLR is only
   * guaranteed to see an `msr` after a context synchronization event (ISB,
   * exception entry, ERET). Until then the workload decides (`sync` events).
   */
  readonly pending = new Map<SysReg, bigint>();
  /** Translation parameters derived from `regs`. */
  params: S1TTWParams;
  /** PSTATE.EL. */
  EL: 0 | 1 = 1;
  /** PSTATE.I: IRQs masked. */
  I = true;
  /** SPSR_EL1 stack: one per exception taken and not yet returned from. */
  readonly saved: SavedPstate[] = [];
  tlb = new Tlb();
  /** Cached table descriptors (intermediate walk entries). */
  walkCache = new WalkCache();

  constructor(readonly id: number, init: Record<SysReg, bigint>, readonly asidBits: number) {
    this.regs = { ...init };
    this.params = s1Params(this.regs, asidBits);
  }

  /** An independent copy, for exhaustive exploration. */
  clone(): Cpu {
    const c = new Cpu(this.id, this.regs, this.asidBits);
    for (const [r, v] of this.pending) c.pending.set(r, v);
    c.EL = this.EL; c.I = this.I;
    c.saved.push(...this.saved);
    c.tlb = this.tlb.clone();
    c.walkCache = this.walkCache.clone();
    return c;
  }

  /**
   * The hardware evicting one cached entry: the `n`th (mod the total) in
   * fill order of the TLB and the walk cache together. Capacity and
   * replacement are not modelled (tlb.ts), so either may drop any entry
   * at any time.
   */
  evict(n: number): TlbEntry | WalkEntry | undefined {
    const all = [...this.tlb.entries(), ...this.walkCache.entries()].sort((a, b) => a.seq - b.seq);
    if (all.length === 0) return undefined;
    const victim = all[n % all.length];
    if ('next' in victim) this.walkCache.invalidate((e) => e === victim, Infinity);
    else this.tlb.invalidate((e) => e === victim, Infinity);
    return victim;
  }

  /** `mrs`: a direct read sees this CPU's own earlier direct write in program order. */
  read(reg: SysReg): bigint { return this.pending.get(reg) ?? this.regs[reg]; }

  /** Make pending writes take effect: a context synchronization event (ISB, exception entry, ERET). */
  synchronise(): void {
    if (this.pending.size === 0) return;
    for (const [reg, v] of this.pending) this.regs[reg] = v;
    this.pending.clear();
    this.params = s1Params(this.regs, this.asidBits);
  }

  /**
   * The hardware letting one pending write take effect early, chosen by the
   * workload (`which` mod the number pending); writes to different registers
   * may take effect in any order before the synchronization event.
   */
  takeEffect(which: number): SysReg | undefined {
    const regs = [...this.pending.keys()];
    if (regs.length === 0) return undefined;
    const reg = regs[which % regs.length];
    this.regs[reg] = this.pending.get(reg)!;
    this.pending.delete(reg);
    this.params = s1Params(this.regs, this.asidBits);
    return reg;
  }
}
