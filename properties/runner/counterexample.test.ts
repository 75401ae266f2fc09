// Counterexample files: round trip, atomic writes named by content, never
// overwritten by a different one, and one-line errors for bad files.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mitigation as broken } from '../../model/mitigations/arm64/broken/kpti-global-kernel.ts';
import type { Event } from '../../model/kernel/events.ts';
import { build, fileName, load, save } from './counterexample.ts';
import { simulate } from './simulate.ts';

const dir = mkdtempSync(join(tmpdir(), 'isocheck-cx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function make(workload: Event[]) {
  const r = simulate(workload, broken, { invariants: ['el0-isolation'], trace: true });
  return build({ arch: 'arm64', mitigation: broken.id, twin: 'arm64/kpti', invariant: 'el0-isolation', options: r.options, seed: 1, path: '0', workload, violation: r.violation!, trace: r.trace });
}

describe('counterexample files', () => {
  const a = make([{ k: 'irq', cpu: 0 }]);
  const b = make([{ k: 'syscall', cpu: 0, nr: 'getpid', slot: 0, prot: 'r', task: 0 }]);

  it('round-trips through save and load', () => {
    const { file, written } = save(dir, a);
    expect(written).toBe(true);
    expect(file).toBe(fileName(dir, a));
    expect(load(file)).toEqual(a);
    expect(readdirSync(join(dir, 'arm64/broken')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('names files by content: the same counterexample is not rewritten, a different one gets its own file', () => {
    const first = readFileSync(fileName(dir, a), 'utf8');
    expect(save(dir, { ...a, seed: 99 }).written).toBe(false); // same mitigation, invariant, options and workload
    expect(readFileSync(fileName(dir, a), 'utf8')).toBe(first);
    expect(fileName(dir, b)).not.toBe(fileName(dir, a));
    expect(save(dir, b).written).toBe(true);
  });

  it('refuses to overwrite a file that holds a different counterexample', () => {
    writeFileSync(fileName(dir, a), JSON.stringify(b));
    expect(() => save(dir, a)).toThrow(/holds a different counterexample; refusing to overwrite/);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['foreign', '{"x":1}', /not an isocheck counterexample/],
    ['wrong version', JSON.stringify({ format: 'isocheck-counterexample', version: 1 }), /unsupported counterexample version 1 \(this isocheck reads 2\)/],
    ['bad event', JSON.stringify({ ...make([{ k: 'irq', cpu: 0 }]), workload: [{ k: 'teleport', cpu: 0 }] }), /malformed counterexample at workload\.0\.k/],
    ['unknown invariant', JSON.stringify({ ...a, invariant: 'vibes' }), /malformed counterexample at invariant/],
  ])('rejects a %s file with one line naming the problem', (_name, text, pattern) => {
    const f = join(dir, `bad-${_name}.json`);
    writeFileSync(f, text);
    expect(() => load(f)).toThrow(pattern);
    try { load(f); } catch (e) { expect((e as Error).message.split('\n')).toHaveLength(1); }
  });
});
