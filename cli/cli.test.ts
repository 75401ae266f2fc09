// The isocheck command: exit codes 0/1/2, one-line messages for bad input,
// and what review/replay/list print. Most cases call `main` in this process
// (output captured); `list` goes through `cli/bin.mjs` as a user would.

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from './main.ts';

interface Ran { code: number | null; out: string; err: string }
/** `node cli/bin.mjs args`. */
const spawn = (args: string[]): Promise<Ran> => new Promise((resolve) => {
  execFile(process.execPath, ['cli/bin.mjs', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 },
    (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : null) : 0, out, err }));
});
/** `main(args)` in this process, with stdout and stderr captured (one at a time). */
let queue = Promise.resolve();
const run = (args: string[], env: Record<string, string> = {}): Promise<Ran> => {
  const job = queue.then(async () => {
    const out: string[] = [], err: string[] = [];
    const [o, e] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    Object.assign(process.env, env);
    process.stdout.write = ((s: string) => { out.push(String(s)); return true; }) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => { err.push(String(s)); return true; }) as typeof process.stderr.write;
    try {
      const code = await main(args);
      // picocolors colours when CI is set, whatever the stream; match plain text.
      return { code, out: stripVTControlCharacters(out.join('')), err: stripVTControlCharacters(err.join('')) };
    } finally {
      process.stdout.write = o; process.stderr.write = e;
      for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    }
  });
  queue = job.then(() => undefined, () => undefined);
  return job;
};
/** Bad input: exit 2 and exactly one line on stderr, naming the problem. */
const badInput = (r: Ran, pattern: RegExp) => {
  expect(r.code, r.err).toBe(2);
  expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  expect(r.err).toMatch(pattern);
};

const tmp = mkdtempSync(join(tmpdir(), 'isocheck-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.concurrent('isocheck review', () => {
  it('reviews the bundled reference mitigations by default: kpti and pti-pcid hold all they claim, nokpti and nopti violate isolation', async () => {
    const r = await run(['review', '--runs', '10']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/arm64\/kpti[\s\S]*el0-isolation\s+yes\s+holds[\s\S]*tlb-conflict\s+yes\s+holds/);
    expect(r.out).toMatch(/arm64\/nokpti[\s\S]*el0-isolation\s+no\s+violated \(not claimed\)/);
    expect(r.out).toMatch(/cost per syscall \(getpid\): .*MSR TTBR1_EL1/);
    expect(r.out).toMatch(/x86\/pti-pcid[\s\S]*el0-isolation\s+yes\s+holds[\s\S]*x86-global\s+yes\s+holds/);
    expect(r.out).toMatch(/x86\/nopti[\s\S]*el0-isolation\s+no\s+violated \(not claimed\)/);
    expect(r.out).toMatch(/cost per syscall \(getpid\): 2 mov-cr3 noflush/);
    expect(r.out).toMatch(/estimated syscall rate:\s+0\.\d+ x nopti/);
  });

  it('exits 1 for a broken x86 mitigation and shows the flush it leaves out', async () => {
    const r = await run(['review', 'x86/broken/pti-flush-one-user-noop', '--runs', '300']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/stale-tlb\s+yes\s+VIOLATED/);
    expect(r.out).toMatch(/cpu\d\s+\[\d+\]\s+invlpg 0x0000000000400000/);
    expect(r.out).toMatch(/kind=user PCID/);
  });

  it('exits 1 for a broken mitigation, names the invariant, prints a step table, and saves it', async () => {
    const args = ['review', 'arm64/broken/kpti-tlbi-kernel-asid-only', '--runs', '60', '--save', tmp];
    const r = await run(args);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/stale-tlb\s+yes\s+VIOLATED/);
    expect(r.out).toMatch(/cpu\d\s+\[\d+\]\s+TLBI VALE1IS va=0x0000000000400000 asid=\d/);
    expect(r.out).toMatch(/<== violation/);
    const saved = readdirSync(join(tmp, 'arm64/broken'));
    expect(saved.some((f) => f.includes('--stale-tlb--'))).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, 'arm64/broken', saved[0]), 'utf8')).format).toBe('isocheck-counterexample');
  });

  it('reviews a module file, and prints JSON with --json', async () => {
    const r = await run(['review', 'cli/fixtures/own-kpti.ts', '--runs', '20', '--json']);
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out);
    expect(j[0].id).toBe('fixture/own-kpti');
    expect(j[0].verdicts.every((v: { holds: boolean }) => v.holds)).toBe(true);
  });

  it.each([
    ['a missing module', ['review', 'cli/fixtures/nope.ts'], /nope\.ts: no such module/],
    ['a module without a mitigation', ['review', 'cli/fixtures/no-mitigation.ts'], /no-mitigation\.ts: module has no mitigation/],
    ['a module of the wrong shape', ['review', 'cli/fixtures/wrong-shape.ts'], /wrong-shape\.ts: not a mitigation: hooks/],
    ['a hook that throws', ['review', 'cli/fixtures/throws.ts', '--runs', '5'], /fixture\/throws: mitigation error \(threw\): hook threw: tramp_map_kernel/],
    ['a hook that never ends', ['review', 'cli/fixtures/never-ends.ts', '--runs', '5'], /fixture\/never-ends: mitigation error \(never-ends\)/],
    ['an out-of-range op field', ['review', 'cli/fixtures/bad-op.ts', '--runs', '5'], /asid 1048576 out of range 0\.\.65535/],
    ['a bad option', ['review', '--runs', '0'], /--runs must be an integer >= 1/],
  ])('exits 2 for %s', async (_what, args, pattern) => badInput(await run(args), pattern));

  it('exits 2 for a hook that loops without yielding, stopped by the watchdog', async () => {
    badInput(await run(['review', 'cli/fixtures/spins.ts', '--runs', '5'], { ISOCHECK_STALL_MS: '1500' }), /spins\.ts: a hook never returned/);
  });
});

describe.concurrent('isocheck replay', () => {
  const stored = readdirSync('counterexamples/arm64/broken').find((f) => f.startsWith('kpti-global-kernel--el0-isolation'))!;

  it('replays a stored counterexample: exit 1, still violated, twin holds', async () => {
    const r = await run(['replay', join('counterexamples/arm64/broken', stored)]);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/still violates el0-isolation/);
    expect(r.out).toMatch(/arm64\/kpti \(twin\): holds every claimed invariant/);
  });

  it.each([
    ['a missing file', 'cli/fixtures/missing.json', /missing\.json: cannot read \(ENOENT\)/],
    ['a file that is not JSON', 'cli/fixtures/truncated.json', /truncated\.json: not JSON/],
    ['a foreign JSON file', 'cli/fixtures/foreign.json', /foreign\.json: not an isocheck counterexample/],
    ['a malformed field', 'cli/fixtures/bad-field.json', /bad-field\.json: malformed counterexample at workload\.0\.cpu/],
    ['a future format version', 'cli/fixtures/future-version.json', /unsupported counterexample version 99/],
    ['an event on a CPU the machine has not', 'cli/fixtures/cpu-out-of-range.json', /cpu-out-of-range\.json: malformed counterexample at workload\.0\.cpu: cpu 5 out of range 0\.\.1/],
    ['an invariant of another arch', 'cli/fixtures/foreign-invariant.json', /foreign-invariant\.json: malformed counterexample at invariant: x86-global is not an arm64 invariant/],
    ['a twin of another arch', 'cli/fixtures/foreign-twin.json', /foreign-twin\.json: twin x86\/pti-pcid is an x86 mitigation/],
    ['a violation of another invariant', 'cli/fixtures/mismatched-violation.json', /mismatched-violation\.json: malformed counterexample at violation\.invariant/],
  ])('exits 2 for %s', async (_what, file, pattern) => badInput(await run(['replay', file]), pattern));

  it('exits 2 for a replayed hook that loops without yielding, stopped by the watchdog', async () => {
    badInput(await run(['replay', 'cli/fixtures/spins-replay.json'], { ISOCHECK_STALL_MS: '1500' }), /spins-replay\.json: a hook never returned/);
  });
});

describe('isocheck list', () => {
  it('lists each bundled mitigation with id, path, claims and, for broken ones, the expected violation', async () => {
    const r = await spawn(['list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { id: string; path: string; claims: string[]; expectedViolation?: string }[];
    expect(rows.find((x) => x.id === 'arm64/kpti')).toMatchObject({ path: 'model/mitigations/arm64/kpti.ts', claims: expect.arrayContaining(['el0-isolation']) });
    expect(rows.find((x) => x.id === 'arm64/broken/kpti-global-kernel')).toMatchObject({ expectedViolation: 'el0-isolation' });
    for (const row of rows) expect(readFileSync(row.path, 'utf8')).toContain(`id: '${row.id}'`);
  });
});
