// An architecture-neutral view of "what this CPU can translate right now":
// the shared invariants (EL0/CPL3 isolation, stale TLB, tag uniqueness,
// functional) are written once against it, and each architecture's kernel
// provides it (arm64: TTBRs, ASIDs, walk caches; x86: CR3, PCIDs).

import type { Label } from './arch/phys.ts';
import type { VA } from './arch/va.ts';
import type { Mm, UserPage } from './kernel/task.ts';

/** A leaf translation reachable by a walk. */
export interface Reach {
  readonly vaBase: VA;
  readonly size: number;
  /** PA that `vaBase` maps to. */
  readonly pa: number;
  /** The descriptor, as the architecture prints it. */
  readonly text: string;
}

/** A cached leaf translation (a TLB entry). */
export interface Cached extends Reach {
  /** ASID/PCID tag, or undefined for a global entry (matches every context). */
  readonly tag: number | undefined;
  /** Ghost: the name of the root it was walked from (`pgd(mm 3)`, `swapper_pg_dir`). */
  readonly owner: string;
  /** User code may access it (EL0 / CPL3 permission). */
  readonly user: boolean;
  /** Writes allowed. */
  readonly write: boolean;
}

/** A cached table descriptor (arm64 walk cache): a walk may resume at `next`. */
export interface CachedTable {
  readonly vaBase: VA;
  readonly level: number;
  readonly next: number;
  readonly tag: number;
  readonly owner: string;
}

/** A walk's verdict on one user access. */
export type Judged = { readonly pa: number; readonly fault?: undefined } | { readonly fault: 'translation' | 'permission'; readonly pa?: undefined };

/** A tag under which an mm's translations may be cached on a CPU. */
export interface MmTag {
  readonly tag: number;
  /** `kernel ASID`, `user PCID`... */
  readonly kind: string;
  /** The CPU will flush this tag before it can use it again (a deferred flush is pending). */
  readonly flushPending: boolean;
}

/** One translation the hardware may have used for an access. */
export interface Outcome {
  readonly pa?: number;
  readonly fault?: string;
  /** Where it came from, for reports (`TLB entry asid=3 from pgd(mm 2)`); absent for a fresh walk. */
  readonly via?: string;
}

/** A memory access a machine performed, with every translation it may have used (an effect of a step). */
export interface AccessEffect {
  readonly kind: 'access';
  readonly cpu: number;
  readonly va: VA;
  /** `load`/`store` by user code; `ldr`, `str`, `fetch`, `ldtr`, `sttr`... by the kernel. */
  readonly access: string;
  /** 0: user privilege (EL0, CPL 3, or the kernel's unprivileged uaccess); 1: kernel. */
  readonly el: 0 | 1;
  readonly sym: string;
  readonly outcomes: readonly Outcome[];
}

/** A user translation a syscall in flight is changing (ghost). */
export interface Change { readonly mm: Mm; readonly va: VA; readonly old: UserPage }

export interface IsolationView {
  readonly ncpus: number;
  /** Running user code now: EL0, CPL 3. */
  atUser(cpu: number): boolean;
  /** The tag of the context the CPU translates in now. */
  tag(cpu: number): number;
  /** Tables a walk may start from now, with names for reports. */
  roots(cpu: number): readonly { readonly pa: number; readonly name: string; readonly upper: boolean }[];
  /** Leaves reachable from `root` as the walker sees it; `upper` for a root that only translates the upper half. */
  reachable(root: number, upper: boolean): readonly Reach[];
  cached(cpu: number): readonly Cached[];
  cachedTables(cpu: number): readonly CachedTable[];
  /** Leaves a walk reaches when it resumes from a cached table descriptor. */
  reachableBelow(t: CachedTable): readonly Reach[];
  label(pa: number): Label;
  frameName(pa: number): string;
  /** Frames user code may reach besides its own (the mitigation's declared user-shared set). */
  userShared(): ReadonlySet<number>;
  /**
   * Leaves each live mm's user tables map in kernel-half ranges that are
   * per mm and so outside `userShared` (x86: the LDT remap), with where;
   * like the declared set they may never hold `kernel-secret` or `page-table` frames.
   */
  perMmShared?(): readonly (Reach & { readonly where: string })[];
  /** Changes whenever a frame's label or the user-shared set may have changed (for memoised judgements). */
  labelEpoch(): number;
  /** The task running on `cpu`, if any. */
  current(cpu: number): { readonly tgid: number; readonly mm: Mm } | undefined;
  /** Where `va` goes in `mm`'s own tables for a user access: as software wrote them, or as the walker sees them now. */
  ideal(mm: Mm, va: VA, write: boolean, view: 'software' | 'walker'): Judged;
  /** Tags that may hold `mm`'s translations on `cpu`. */
  tagsOf(mm: Mm, cpu: number): readonly MmTag[];
  /** Cached entries on `cpu` that may translate `va` under `tag`. */
  lookup(cpu: number, va: VA, tag: number): readonly Cached[];
  /** Changes made by the syscall in flight on `cpu`. */
  changes(cpu: number): readonly Change[];
  /** Old pages of (`mm`, `va`) that a syscall in flight on some CPU is changing. */
  inFlight(mm: Mm, va: VA): readonly UserPage[];
  /** One mm uses one tag on every CPU (arm64's global ASIDs), rather than a tag per CPU (x86's per-CPU PCID slots). */
  readonly globalTags: boolean;
}

/** The mm id in a root's ghost name (`pgd(mm 3)`), or undefined for kernel tables. */
export function mmOf(owner: string): number | undefined {
  const m = /\(mm (\d+)\)/.exec(owner);
  return m ? Number(m[1]) : undefined;
}
