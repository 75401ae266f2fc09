// Physical memory: frames with ghost labels (DESIGN.md "The machine").
// Invariants judge by these labels, never by what a mitigation claims.
// Not modelled: data contents of non-table frames; a user access is judged
// by which frame it reaches, which is what isolation and the ideal-machine
// comparison need.

/** Who a frame belongs to; ghost state, invisible to the modelled hardware. */
export type Label =
  | 'kernel-text' | 'kernel-data' | 'kernel-secret' | 'page-table' | 'trampoline' | 'entry-area' | 'free'
  | `user(${number})` | `guest(${number})`;

/** One 4 KiB physical frame. */
export interface Frame<E> {
  /** Ghost label; changes when the kernel allocates or frees the frame. */
  label: Label;
  /** Kernel symbol or role, for reports (`swapper_pg_dir`, `pgd(pid 3)`). */
  name: string;
  /** Present when the frame holds a translation table: index -> decoded entry. */
  table?: Map<number, E>;
  /** Ghost: which allocation of this frame it is (bumped each time it is claimed). */
  epoch: number;
}

export const FRAME = 4096;

/** Physical memory with a bump allocator over a fixed RAM range. */
export class PhysMem<E> {
  /** Frames by physical address; missing frames are `free` and unnamed. */
  readonly frames = new Map<number, Frame<E>>();
  /** Bumped on every table store: lets walkers memoise per root. */
  version = 0;
  /** Bumped when the shape of the table graph may change (a table entry written or replaced, a table freed). */
  shape = 0;
  /** Bumped whenever a frame's label changes (claim, alloc, free): lets judges of labels memoise. */
  labels = 0;
  /** Allocations so far (frame epochs). */
  private epochs = 0;
  private freeList: number[] = [];
  private next: number;

  /** @param isTable whether an entry points at a next-level table (for `shape`). */
  constructor(readonly base: number, readonly size: number, private readonly isTable: (e: E) => boolean = () => true) { this.next = base; }

  /** An independent copy (entries are immutable and shared): lets a booted image be reused per run. */
  clone(): PhysMem<E> {
    const c = new PhysMem<E>(this.base, this.size, this.isTable);
    for (const [pa, f] of this.frames) c.frames.set(pa, { ...f, table: f.table && new Map(f.table) });
    c.freeList = [...this.freeList];
    c.next = this.next;
    c.version = this.version;
    c.shape = this.shape;
    c.epochs = this.epochs;
    c.labels = this.labels;
    return c;
  }

  frame(pa: number): Frame<E> | undefined { return this.frames.get(pa - (pa % FRAME)); }
  label(pa: number): Label { return this.frame(pa)?.label ?? 'free'; }

  /** Claim the frame at `pa` (boot-time static allocation, like the kernel image). */
  claim(pa: number, label: Label, name: string, table = false): number {
    if (!this.frames.has(pa)) this.sorted = undefined;
    this.frames.set(pa, { label, name, table: table ? new Map() : undefined, epoch: ++this.epochs });
    this.labels++;
    if (pa >= this.next) this.next = pa + FRAME;
    return pa;
  }

  /** Allocate a frame (lowest freed first, then bump), like `alloc_page` with a deterministic order. */
  alloc(label: Label, name: string, table = false): number {
    const pa = this.freeList.length ? this.freeList.shift()! : this.bump();
    return this.claim(pa, label, name, table);
  }

  /**
   * `__get_free_pages(order)`: `n` = 2^order physically contiguous frames
   * from the bump region, aligned to their size as the buddy allocator's
   * blocks are (x86 PTI relies on it: an 8 KiB PGD pair differs in bit 12
   * only). Frames skipped for alignment stay unused. Returns the first.
   */
  allocContiguous(n: number, label: Label, name: string, table = false): number {
    while ((this.next / FRAME) % n !== 0) this.next += FRAME;
    const first = this.bump();
    this.claim(first, label, `${name} +0`, table);
    for (let i = 1; i < n; i++) this.claim(this.bump(), label, `${name} +${i}`, table);
    return first;
  }

  /** Free a frame: its label becomes `free`, and a later alloc may reuse it. */
  free(pa: number): void {
    const f = this.frames.get(pa);
    if (!f) return;
    if (f.table) this.shape++;
    f.label = 'free'; f.name = 'free'; f.table = undefined;
    this.labels++;
    this.freeList.push(pa);
    this.freeList.sort((a, b) => a - b);
    this.version++;
  }

  readEntry(table: number, index: number): E | undefined { return this.frames.get(table)?.table?.get(index); }

  writeEntry(table: number, index: number, e: E, invalid: (e: E) => boolean): void {
    const t = this.frames.get(table)?.table;
    if (!t) throw new RangeError(`store to ${table.toString(16)}, which is not a translation table`);
    const old = t.get(index);
    if ((old !== undefined && this.isTable(old)) || this.isTable(e)) this.shape++;
    if (invalid(e)) t.delete(index); else t.set(index, e);
    this.version++;
  }

  /** Addresses of frames ever claimed, sorted; rebuilt lazily after a new claim. */
  private sorted?: number[];

  /** Frames ever claimed in [pa, pa + size), in address order (freed ones carry `free`). */
  labelled(pa: number, size: number): [number, Frame<E>][] {
    if (size <= FRAME) { const f = this.frames.get(pa); return f ? [[pa, f]] : []; }
    const s = (this.sorted ??= [...this.frames.keys()].sort((x, y) => x - y));
    let lo = 0, hi = s.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (s[mid] < pa) lo = mid + 1; else hi = mid; }
    const out: [number, Frame<E>][] = [];
    for (let i = lo; i < s.length && s[i] < pa + size; i++) out.push([s[i], this.frames.get(s[i])!]);
    return out;
  }

  private bump(): number {
    if (this.next >= this.base + this.size) throw new RangeError('out of physical memory');
    const pa = this.next; this.next += FRAME; return pa;
  }
}
