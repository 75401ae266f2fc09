// The arm64 ASID allocator: arch/arm64/mm/context.c as of Linux 4.16
// (docs/sources/arm64-asid-and-arm-arm.md §1). Software state only: the TLB
// maintenance it requires (`local_flush_tlb_all` when `tlb_flush_pending`)
// is yielded by the mitigation's `checkAndSwitchContext`, so a broken
// variant can leave it out. `cpu_asid_lock` is implicit: issue-2 hooks run
// one at a time.

/** Allocator state: the statics and per-CPU variables of context.c. */
export class AsidAllocator {
  /** `asid_generation`: a multiple of `ASID_FIRST_VERSION`. */
  generation: number;
  /** `asid_map`: one bit per index (per ASID pair under KPTI). */
  readonly map: boolean[];
  /** `per_cpu(active_asids, cpu)`: 0 after a rollover until the CPU switches. */
  readonly active: number[];
  /** `per_cpu(reserved_asids, cpu)`. */
  readonly reserved: number[];
  /** `tlb_flush_pending`: CPUs that must flush their TLB before using a new-generation ASID. */
  readonly tlbFlushPending = new Set<number>();
  /** `cur_idx` (static in `new_context`). */
  curIdx = 1;
  /** Rollovers so far (ghost, for statistics). */
  rollovers = 0;

  /**
   * @param asidBits `asid_bits`: scaled down from the hardware's 8 or 16 so short workloads roll over.
   * @param pairs CONFIG_UNMAP_KERNEL_AT_EL0: ASIDs come in even (kernel) / odd (user) pairs.
   */
  constructor(readonly asidBits: number, readonly pairs: boolean, ncpus: number) {
    this.generation = this.ASID_FIRST_VERSION;
    this.map = new Array(this.NUM_USER_ASIDS).fill(false);
    this.active = new Array(ncpus).fill(0);
    this.reserved = new Array(ncpus).fill(0);
  }

  get ASID_FIRST_VERSION(): number { return 2 ** this.asidBits; }
  get NUM_USER_ASIDS(): number { return this.pairs ? this.ASID_FIRST_VERSION / 2 : this.ASID_FIRST_VERSION; }
  /** `asid2idx`: drop the generation, and the pair bit under KPTI. */
  asid2idx(asid: number): number { const a = asid % this.ASID_FIRST_VERSION; return this.pairs ? a >> 1 : a; }
  /** `idx2asid`: the even (kernel) ASID of a pair. */
  idx2asid(idx: number): number { return (this.pairs ? idx << 1 : idx) % this.ASID_FIRST_VERSION; }
  /** `(asid ^ generation) >> asid_bits`: true when `id` is from the current generation. */
  isCurrent(id: number): boolean { return Math.floor(id / this.ASID_FIRST_VERSION) === this.generation / this.ASID_FIRST_VERSION; }

  /** `flush_context`: rebuild the bitmap from the active/reserved ASIDs and queue a flush on every CPU. */
  flushContext(): void {
    this.map.fill(false);
    for (let i = 0; i < this.active.length; i++) {
      let asid = this.active[i];
      this.active[i] = 0;
      // A CPU that has been through a rollover without running another task keeps its reserved ASID.
      if (asid === 0) asid = this.reserved[i];
      this.map[this.asid2idx(asid)] = true;
      this.reserved[i] = asid;
    }
    for (let i = 0; i < this.active.length; i++) this.tlbFlushPending.add(i);
  }

  /** `check_update_reserved_asid`: update every reserved copy of `asid` to `newasid`. */
  checkUpdateReservedAsid(asid: number, newasid: number): boolean {
    let hit = false;
    for (let cpu = 0; cpu < this.reserved.length; cpu++) {
      if (this.reserved[cpu] === asid) { hit = true; this.reserved[cpu] = newasid; }
    }
    return hit;
  }

  /** `new_context`: a current-generation context id for an mm whose id is `asid` (0 if never allocated). */
  newContext(asid: number): number {
    let generation = this.generation;
    if (asid !== 0) {
      const newasid = generation | (asid % this.ASID_FIRST_VERSION);
      // If our current ASID was active during a rollover, we can continue to use it.
      if (this.checkUpdateReservedAsid(asid, newasid)) return newasid;
      // We had a valid ASID in a previous life, so try to re-use it if possible.
      const idx = this.asid2idx(asid);
      if (!this.map[idx]) { this.map[idx] = true; return newasid; }
    }
    // Allocate a free ASID, counting from index 1 (ASID #0 is init_mm's reserved TTBR0).
    let idx = this.map.indexOf(false, this.curIdx);
    if (idx === -1) {
      // Out of ASIDs: bump the generation and flush.
      this.generation += this.ASID_FIRST_VERSION;
      generation = this.generation;
      this.rollovers++;
      this.flushContext();
      idx = this.map.indexOf(false, 1);
    }
    this.map[idx] = true;
    this.curIdx = idx;
    return this.idx2asid(idx) | generation;
  }
}
