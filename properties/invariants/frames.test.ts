// forbiddenMemo: the same answer as forbidden, recomputed as soon as a label
// or the user-shared set changes (labelEpoch), never served stale.
import { describe, expect, it } from 'vitest';
import type { Label } from '../../model/arch/phys.ts';
import type { IsolationView } from '../../model/view.ts';
import { bootKernel } from '../runner/simulate.ts';
import { mitigation as ptiPcid } from '../../model/mitigations/x86/pti-pcid.ts';
import { forbidden, forbiddenMemo } from './frames.ts';

const PMD = 2 << 20;

describe('forbiddenMemo', () => {
  it('agrees with forbidden, and follows a label change and a user-shared change', () => {
    const k = bootKernel(ptiPcid), v: IsolationView = k.view;
    const base = k.sym.init_task.pa; // the data PMD: init_task, primary_crng, idt_table, page tables...
    const ok = (pa: number, l: Label) => l === 'user(9)' || l === 'free' || v.userShared().has(pa);
    const first = forbiddenMemo(v, base, PMD, 'user(9)', ok);
    expect(first).toEqual(forbidden(v, base, PMD, ok));
    expect(first).toMatchObject({ pa: k.sym.primary_crng.pa, label: 'kernel-secret' });
    expect(forbiddenMemo(v, base, PMD, 'user(9)', () => true)).toBe(first); // memoised: `key` says what ok depends on

    k.mem.free(k.sym.primary_crng.pa); // a label changes
    const second = forbiddenMemo(v, base, PMD, 'user(9)', ok);
    expect(second).toEqual(forbidden(v, base, PMD, ok));
    expect(second?.label).not.toBe('kernel-secret');

    const pa = second!.pa; // the user-shared set changes: perf maps that frame as a PEBS buffer
    k.pebsBuffers[0] = pa;
    expect(forbiddenMemo(v, base, PMD, 'user(9)', ok)?.pa).not.toBe(pa);
    k.pebsBuffers[0] = undefined;
    expect(forbiddenMemo(v, base, PMD, 'user(9)', ok)?.pa).toBe(pa);
  });
});
