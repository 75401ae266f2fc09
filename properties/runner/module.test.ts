// Loading mitigation modules: bundled ids, files, and one-line errors.
import { describe, expect, it } from 'vitest';
import { asMitigation, loadModule, resolveMitigation } from './module.ts';

describe('mitigation modules', () => {
  it('resolves a bundled id and a module file', async () => {
    expect((await resolveMitigation('arm64/kpti')).id).toBe('arm64/kpti');
    expect((await loadModule('cli/fixtures/own-kpti.ts')).id).toBe('fixture/own-kpti');
  });

  it.each([
    ['cli/fixtures/nope.ts', /nope\.ts: no such module/],
    ['cli/fixtures/no-mitigation.ts', /module has no mitigation/],
    ['cli/fixtures/wrong-shape.ts', /not a mitigation: hooks/],
    ['cli/fixtures/foreign.json', /cannot load module|not a mitigation|no mitigation/],
  ])('rejects %s', async (path, pattern) => {
    await expect(loadModule(path)).rejects.toThrow(pattern);
  });

  it('names the first missing field', () => {
    expect(() => asMitigation({ id: 'x' }, 'm.ts')).toThrow(/^m\.ts: not a mitigation: arch/);
  });
});
