// Syscall bodies, in the order Linux does the work (mm/mmap.c, mm/mprotect.c,
// kernel/fork.c, kernel/exit.c, mm/migrate.c, drivers/char/random.c). Each
// takes the mm's `mmap_lock` where Linux does (a mutex here; readers are not
// distinguished), and records the user translations it changes
// (`k.beginChange`) before changing them, so that user code may see the old
// translation until the syscall returns, and the stale-TLB invariant can
// check them when it does.

import { lock, note, unlock, type AnyHook as Hook } from '../arch/ops.ts';
import type { Event } from './events.ts';
import type { Kernel } from './kernel.ts';
import type { Mm, Task } from './task.ts';

type SyscallEvent = Extract<Event, { k: 'syscall' }>;
/** What the syscall leaves for `ret_to_user`: keep running, or switch to this task (undefined = idle). */
export type After = 'stay' | Task | undefined;

export function* syscallBody(k: Kernel, c: number, ev: SyscallEvent): Hook<After> {
  const task = k.running[c]!, mm = task.mm, mem = k.mem;
  const va = k.userSlots[ev.slot % k.userSlots.length];
  switch (ev.nr) {
    case 'getpid':
      yield* k.readKernel('current', 'current->tgid');
      return 'stay';
    case 'getrandom': {
      // get_random_bytes reads the crng state, then copy_to_user into the caller's buffer.
      yield* k.readKernel('primary_crng', 'primary_crng');
      yield* k.copyUser(c, 'to', va, 'copy_to_user(buf)');
      return 'stay';
    }
    case 'mmap':
      // MAP_FIXED_NOREPLACE | MAP_POPULATE: no TLB maintenance for invalid -> valid.
      yield* locked(mm, function* () { if (!mm.pages.has(va)) yield* k.mapUserPage(mm, va, ev.prot, task.tgid); });
      return 'stay';
    case 'munmap':
      // unmap_region: zap the pte, tlb_finish_mmu -> tlb_flush (last level), then free the page.
      yield* locked(mm, function* () {
        const page = mm.pages.get(va);
        if (!page) return;
        k.beginChange(c, mm, va, page);
        yield* k.clearUserPage(mm, va);
        yield* k.flushTlbRange(c, mm, va, va + 4096, true);
        mem.free(page.pa);
        k.unmapped(mm).add(va);
      });
      return 'stay';
    case 'mprotect':
      // change_protection, then flush_tlb_range.
      yield* locked(mm, function* () {
        const page = mm.pages.get(va);
        if (!page || page.prot === ev.prot) return;
        k.beginChange(c, mm, va, page);
        yield* k.rewriteUserPage(mm, va, page.pa, ev.prot);
        yield* k.flushTlbRange(c, mm, va, va + 4096, false);
      });
      return 'stay';
    case 'fork': {
      // dup_mmap, under the parent's mmap_lock. Simplification: pages are copied eagerly, not shared copy-on-write.
      const child = k.spawn(task);
      if (!child) return 'stay';
      child.ready = false;
      yield* k.ldtDupContext(c, mm, child); // mm_init -> init_new_context, before dup_mmap
      yield* locked(mm, function* () {
        for (const [cva, page] of mm.pages) yield* k.mapUserPage(child.mm, cva, page.prot, child.tgid);
        yield* k.flushTlbMm(c, mm);
      });
      child.ready = true; // wake_up_new_task
      return 'stay';
    }
    case 'clone':
      k.spawn(task, mm);
      return 'stay';
    case 'move_pages':
      yield* movePage(k, c, ev);
      return 'stay';
    case 'modify_ldt':
      // write_ldt, under mm->context.ldt_usr_sem (x86 only; -ENOSYS elsewhere).
      yield lock(`ldt_usr_sem(mm ${mm.id})`);
      yield* k.writeLdt(c, task);
      yield unlock(`ldt_usr_sem(mm ${mm.id})`);
      return 'stay';
    case 'perf_event_open':
      // x86_pmu_event_init -> x86_reserve_hardware: the first event maps the PEBS buffers (x86).
      yield* k.perfEventOpen(c, task);
      return 'stay';
    case 'close':
      // Of the task's perf event fd: hw_perf_event_destroy -> x86_release_hardware: the last event unmaps and frees them.
      yield* k.perfEventClose(c, task);
      return 'stay';
    case 'exit':
      return yield* exit(k, c, task);
  }
}

/**
 * `move_pages(pid, ...)` on task number `ev.task`: migrate_pages ->
 * try_to_migrate (`ptep_clear_flush` -> `flush_tlb_page`), copy, then
 * `remove_migration_ptes` maps the new frame. The target mm may be live on
 * another CPU, which is what makes the broadcast invalidation matter.
 */
function* movePage(k: Kernel, c: number, ev: SyscallEvent): Hook {
  const live = k.tasks.filter((t) => t.alive);
  const target = live[ev.task % live.length];
  const mm = target.mm, va = k.userSlots[ev.slot % k.userSlots.length], mem = k.mem;
  // do_pages_move: get_user(p, pages + i) reads the caller's array (at the same slot of its own mm; -EFAULT if unmapped).
  yield* k.copyUser(c, 'from', va, 'get_user(pages[i])');
  yield* locked(mm, function* () {
    const page = mm.pages.get(va);
    if (!page || !target.alive) return;
    yield note(`migrate_pages: pid ${target.pid} page ${va.toString(16)}`);
    k.beginChange(c, mm, va, page);
    yield* k.clearUserPage(mm, va);
    yield* k.flushTlbPage(c, mm, va);
    const pa = mem.alloc(`user(${target.tgid})`, `user page of ${target.tgid}`);
    yield* k.rewriteUserPage(mm, va, pa, page.prot);
    mem.free(page.pa);
  });
}

/** `mmap_write_lock(mm)` around `body`. */
function* locked(mm: Mm, body: () => Hook): Hook {
  yield lock(`mmap_lock(mm ${mm.id})`);
  yield* body();
  yield unlock(`mmap_lock(mm ${mm.id})`);
}

/**
 * `do_exit` -> `exit_mm` -> `mmput` -> `exit_mmap` when the last user goes:
 * the ptes are cleared, `tlb_finish_mmu` flushes the whole mm
 * (`k.tlbFlushFullMm`: nothing on arm64, whose `tlb_flush` returns early for
 * `fullmm`; `flush_tlb_mm_range(mm, 0, TLB_FLUSH_ALL)` on x86), and only
 * then are the pages freed (`tlb_flush_mmu_free`). Then schedule.
 */
function* exit(k: Kernel, c: number, task: Task): Hook<After> {
  yield* k.perfEventClose(c, task); // exit_files: perf_release of the task's event
  task.alive = false;
  const mm = task.mm, mem = k.mem;
  if (--mm.users === 0) {
    yield* locked(mm, function* () {
      const freed: number[] = [];
      for (const va of [...mm.pages.keys()]) {
        const pa = yield* k.clearUserPage(mm, va);
        if (pa !== undefined) freed.push(pa);
      }
      yield* k.tlbFlushFullMm(c, mm);
      for (const pa of freed) mem.free(pa);
    });
  }
  const next = k.runnable()[0];
  if (next) next.cpu = c; // claimed now: another CPU may schedule before this one switches
  return next;
}
