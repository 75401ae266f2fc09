// Tests for X86Cpu (cpu.ts) and the CPU-state ops of X86Machine: CR3 fields, exceptions, SYSRET/IRET, CLI/STI.
import { describe, expect, it } from 'vitest';
import { PhysMem } from '../phys.ts';
import { cr3, decodeCr3 } from './cr.ts';
import { X86Cpu } from './cpu.ts';
import { X86Machine } from './machine.ts';
import { access, cli, hint, iret, lock, note, readCr3, sti, sysret, unlock, wait, type X86Op } from './ops.ts';
import type { Entry } from './pte.ts';

describe('X86Cpu', () => {
  it('takes the root from CR3[51:12] and the PCID from CR3[11:0] only with CR4.PCIDE = 1 (SDM §4.10.1)', () => {
    const c = new X86Cpu(0, cr3(0xf_ffff_ffff_f000, 0x818), { PCIDE: true, PGE: false });
    expect([c.root, c.pcid]).toEqual([0xf_ffff_ffff_f000, 0x818]);
    c.cr4 = { PCIDE: false, PGE: false };
    expect([c.root, c.pcid]).toEqual([0xf_ffff_ffff_f000, 0]);
    expect([new X86Cpu(1).CPL, new X86Cpu(1).IF, new X86Cpu(1).cr4]).toEqual([0, false, { PCIDE: false, PGE: false }]);
  });

  it('builds and decodes CR3 values as build_cr3/build_cr3_noflush do', () => {
    expect(cr3(0x10_2000, 0x801, true)).toBe(0x8000_0000_0010_2801n);
    expect(decodeCr3(0x8000_0000_0010_2801n)).toEqual({ base: 0x10_2000, pcid: 0x801, noflush: true });
    expect(() => cr3(0x10_2800, 0)).toThrow(RangeError);
    expect(() => cr3(0x10_2000, 0x1000)).toThrow(RangeError);
  });
});

describe('exceptions and IF', () => {
  const machine = () => {
    const m = new X86Machine(new PhysMem<Entry>(0x10_0000, 0x10_0000), 1);
    return { c0: m.cpus[0], run: (...ops: X86Op[]) => ops.map((op) => m.exec(m.cpus[0], op)) };
  };

  it('delivers to CPL 0 with IF clear, nests, and SYSRET/IRET pop the saved state', () => {
    const { c0, run } = machine();
    c0.CPL = 3; c0.IF = true;
    run({ op: 'exception', type: 'syscall', reason: 'getpid' });
    expect([c0.CPL, c0.IF, c0.saved]).toEqual([0, false, [{ CPL: 3, IF: true }]]);
    run(sti(), { op: 'exception', type: 'nmi', reason: 'perf' });
    expect([c0.CPL, c0.IF, c0.saved.length]).toEqual([0, false, 2]);
    run(iret());
    expect([c0.CPL, c0.IF]).toEqual([0, true]);
    run(cli(), sysret());
    expect([c0.CPL, c0.IF, c0.saved]).toEqual([3, true, []]);
    expect(() => run(iret())).toThrow(/no exception/);
  });

  it('leaves CR3 alone on entry (the PTI entry code switches it)', () => {
    const { c0, run } = machine();
    c0.cr3 = cr3(0x10_1000, 0);
    run({ op: 'exception', type: 'irq', reason: 'timer' }, { op: 'exception', type: 'fault', reason: '#PF' });
    expect(c0.cr3).toBe(cr3(0x10_1000, 0));
  });

  it('runs a hook: readCr3 and access receive what exec returns; software steps change nothing', () => {
    const { c0, run } = machine();
    c0.cr3 = cr3(0x10_1000, 5);
    function* hook() {
      const v = yield* readCr3();
      yield note('native_write_cr3'); yield hint('tlb-maintained'); yield lock('l'); yield unlock('l'); yield wait('w', () => true);
      return [v, yield* access('ldr', 0x1000, 'nothing mapped')];
    }
    const g = hook();
    let step = g.next();
    while (!step.done) step = g.next(run(step.value)[0]);
    expect(step.value).toEqual([cr3(0x10_1000, 5), { fault: 'translation' }]);
    expect([c0.cr3, c0.CPL, c0.IF, c0.tlb.size]).toEqual([cr3(0x10_1000, 5), 0, false, 0]);
  });
});
