// The entry and exit paths (entry.ts; entry_64.S 4.15 with the calling.h
// CR3 macros, docs/sources/x86-pti.md §3b) in whole runs: the SYSCALL path
// and, above all, an NMI that lands where CR3 is the user one while the CPU
// is in the kernel (between SWITCH_TO_USER_CR3 and sysretq), which only the
// paranoid SAVE_AND_SWITCH_TO_KERNEL_CR3 / RESTORE_CR3 pair handles.
import { describe, expect, it } from 'vitest';
import { bootKernel, simulate } from '../../../properties/runner/simulate.ts';
import { mitigation as nopti } from '../../mitigations/x86/nopti.ts';
import { mitigation as ptiNopcid } from '../../mitigations/x86/pti-nopcid.ts';
import { mitigation as ptiPcid } from '../../mitigations/x86/pti-pcid.ts';
import type { X86Mitigation } from '../../mitigations/x86/types.ts';
import type { Event } from '../events.ts';
import type { X86Kernel } from './kernel.ts';
import { CEA, cpuEntryArea } from './layout.ts';

const getpid: Event = { k: 'syscall', cpu: 0, nr: 'getpid', slot: 0, prot: 'r', task: 0 };
/**
 * getpid on CPU 0, an NMI after `n` of its steps, then the rest. Read off
 * the trace: step 17 of getpid is SWITCH_TO_USER_CR3's `mov %rax, %cr3`
 * and step 18 the `popq %rsp` from the entry stack; step 8 is in
 * `do_syscall_64` (kernel CR3).
 */
function nmiAfter(n: number, m: X86Mitigation = ptiPcid) {
  const r = simulate([getpid, { k: 'run', cpu: 0, n }, { k: 'nmi', cpu: 0 }, { k: 'run', cpu: 0, n: 100 }], m, { trace: true, invariants: m.claims });
  expect(r.violation ?? r.error).toBeUndefined();
  const k = r.kernel as X86Kernel;
  return { k, lines: r.trace.filter((l) => l.event === 0).map((l) => l.text) };
}
/** `lines` from the first match of `from`, as many as `expected` has, each matched by its pattern. */
function expectRun(lines: string[], from: RegExp, expected: RegExp[]): void {
  const i = lines.findIndex((l) => from.test(l));
  expect(i, `no line matches ${from}`).toBeGreaterThanOrEqual(0);
  const got = lines.slice(i, i + expected.length);
  got.forEach((l, j) => expect(l).toMatch(expected[j]));
  expect(got).toHaveLength(expected.length);
}

describe('NMI between SWITCH_TO_USER_CR3 and sysretq', () => {
  it('pti-pcid: the handler runs on the kernel CR3 (NOFLUSH), RESTORE_CR3 puts the user CR3 back (NOFLUSH), then sysretq', () => {
    const { k, lines } = nmiAfter(17);
    expectRun(lines, /^mov %rax, %cr3 +\(pgd\(mm 1\) \(user\), pcid=0x802, NOFLUSH\)$/, [
      /\(user\), pcid=0x802, NOFLUSH\)$/,
      /^exception: NMI \(NMI\) -> pa /,
      /^mov %cr3, %rax -> \(pgd\(mm 1\) \(user\), pcid=0x802\)$/,
      /^mov %rax, %cr3 +\(pgd\(mm 1\), pcid=0x2, NOFLUSH\)$/,
      /^\/\/ do_nmi$/,
      /^read 0x[0-9a-f]+ \(perf\/NMI handler data\) -> pa 0x/, // reachable: the kernel CR3 is live
      /^mov %rax, %cr3 +\(pgd\(mm 1\) \(user\), pcid=0x802, NOFLUSH\)$/,
      /^fetch 0x[0-9a-f]+ \(paranoid_exit\) -> pa 0x/, // the entry text is in the user copy
      /^iretq$/,
      /^read 0x[0-9a-f]+ \(popq %rdi; popq %rsp \(entry stack\)\) -> pa 0x/,
    ]);
    expect(lines.at(-1)).toBe('sysretq');
    const cpu = k.machine.cpus[0];
    expect([cpu.CPL, cpu.pcid, cpu.root, cpu.saved.length, k.inNmi[0]]).toEqual([3, 0x802, k.running[0]!.mm.pgd + 4096, 0, false]);
  });

  it('pti-nopcid: the same switches on bit 12 alone, each a flushing CR3 write', () => {
    const { lines } = nmiAfter(17, ptiNopcid);
    expectRun(lines, /^exception: NMI/, [
      /^exception: NMI/,
      /^mov %cr3, %rax -> \(pgd\(mm 1\) \(user\), pcid=0x0\)$/,
      /^mov %rax, %cr3 +\(pgd\(mm 1\), pcid=0x0\)$/,
      /^\/\/ do_nmi$/,
      /^read .*perf\/NMI handler data\) -> pa 0x/,
      /^mov %rax, %cr3 +\(pgd\(mm 1\) \(user\), pcid=0x0\)$/,
    ]);
  });
});

describe('NMI elsewhere', () => {
  it('in do_syscall_64 (kernel CR3): SAVE_AND_SWITCH only reads CR3; RESTORE_CR3 rewrites the kernel CR3 with NOFLUSH', () => {
    const { lines } = nmiAfter(8);
    expectRun(lines, /^exception: NMI/, [
      /^exception: NMI/,
      /^mov %cr3, %rax -> \(pgd\(mm 1\), pcid=0x2\)$/,
      /^\/\/ do_nmi$/,
      /^read .*perf\/NMI handler data\) -> pa 0x/,
      /^mov %rax, %cr3 +\(pgd\(mm 1\), pcid=0x2, NOFLUSH\)$/,
      /^fetch .*\(paranoid_exit\)/,
      /^iretq$/,
    ]);
  });

  it('without PTI the paranoid path touches no CR3', () => {
    const { lines } = nmiAfter(9, nopti); // nopti's getpid has no CR3 steps: after 9 it is in syscall_return_via_sysret
    const i = lines.findIndex((l) => l.startsWith('exception: NMI'));
    const nmi = lines.slice(i, lines.indexOf('iretq', i) + 1);
    expect(nmi.length).toBeGreaterThan(3);
    expect(nmi.filter((l) => l.includes('%cr3'))).toEqual([]);
  });

  it('from user mode: an interrupt entry (SWITCH_TO_KERNEL_CR3) and the iretq exit (SWITCH_TO_USER_CR3)', () => {
    // The run finishes CPU 0's boot first: an NMI before `cpu_init` has loaded the IDT is not modelled.
    const r = simulate([{ k: 'run', cpu: 0, n: 1000 }, { k: 'nmi', cpu: 0 }], ptiPcid, { trace: true });
    expect(r.violation ?? r.error).toBeUndefined();
    const lines = r.trace.filter((l) => l.event === 1).map((l) => l.text);
    expect(lines[0]).toMatch(/^exception: NMI \(NMI\) -> pa 0x/);
    expect(lines.filter((l) => l.startsWith('mov %rax, %cr3'))).toEqual([
      'mov %rax, %cr3  (pgd(mm 1), pcid=0x2, NOFLUSH)', 'mov %rax, %cr3  (pgd(mm 1) (user), pcid=0x802, NOFLUSH)',
    ]);
    expect(lines.at(-1)).toBe('iretq');
  });
});

describe('SYSCALL', () => {
  it('under PTI enters through the trampoline in the cpu_entry_area; without PTI through entry_SYSCALL_64', () => {
    const pti = bootKernel(ptiPcid), base = bootKernel(nopti);
    expect(pti.machine.cpus.map((c) => c.lstar)).toEqual([0, 1].map((c) => cpuEntryArea(c) + CEA.entry_trampoline));
    expect(base.machine.cpus.map((c) => c.lstar)).toEqual([base.sym.entry_text.va, base.sym.entry_text.va]);
  });

  it('pti-pcid: the kernel CR3 with NOFLUSH on entry, the user CR3 with NOFLUSH on exit; nopti: no CR3 write', () => {
    const cr3 = (m: X86Mitigation) => simulate([getpid], m, { trace: true }).trace.filter((l) => l.event === 0 && l.text.startsWith('mov %rax, %cr3')).map((l) => l.text);
    expect(cr3(ptiPcid)).toEqual(['mov %rax, %cr3  (pgd(mm 1), pcid=0x2, NOFLUSH)', 'mov %rax, %cr3  (pgd(mm 1) (user), pcid=0x802, NOFLUSH)']);
    expect(cr3(nopti)).toEqual([]);
  });
});
