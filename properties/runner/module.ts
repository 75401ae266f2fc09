// Loading a mitigation module the user wrote: a missing file, a module with
// no mitigation export, or one of the wrong shape is bad input, reported in
// one line.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { INVARIANTS } from '../../model/claims.ts';
import type { Arm64Mitigation } from '../../model/mitigations/arm64/types.ts';
import { byId } from '../../model/mitigations/index.ts';

const fn = z.custom<(...a: unknown[]) => unknown>((v) => typeof v === 'function', 'must be a function');
const HOOKS = ['cpuSetup', 'el0Entry', 'el0Exit', 'el1Entry', 'el1Exit', 'switchMm', 'flushTlbMm', 'flushTlbPage', 'flushTlbRange', 'uaccessEnable', 'uaccessDisable'] as const;

const mitigationSchema = z.object({
  id: z.string().min(1),
  arch: z.literal('arm64'),
  title: z.string(),
  source: z.string(),
  claims: z.array(z.enum(INVARIANTS)),
  nG: z.boolean(),
  unmapKernelAtEl0: z.boolean(),
  userShared: fn,
  hooks: z.object(Object.fromEntries(HOOKS.map((h) => [h, fn])) as Record<(typeof HOOKS)[number], typeof fn>).extend({ layout: fn.optional() }),
  expect: z.object({ violates: z.array(z.enum(INVARIANTS)).min(1), twin: z.string() }).optional(),
  options: z.object({}).passthrough().optional(),
});

/** Check that `value` has the shape of a mitigation; throws a one-line Error naming the first problem. */
export function asMitigation(value: unknown, where: string): Arm64Mitigation {
  const r = mitigationSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${where}: not a mitigation: ${i.path.join('.') || '(export)'} ${i.message}`);
  }
  return value as Arm64Mitigation;
}

/** Import a module file and return its `mitigation` (or default) export. */
export async function loadModule(path: string): Promise<Arm64Mitigation> {
  const file = resolve(path);
  if (!existsSync(file)) throw new Error(`${path}: no such module`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw new Error(`${path}: cannot load module: ${(e as Error).message.split('\n')[0]}`);
  }
  const value = mod.mitigation ?? mod.default;
  if (value === undefined) throw new Error(`${path}: module has no mitigation (export \`mitigation\` or a default export)`);
  return asMitigation(value, path);
}

/** A bundled mitigation by id, or a module by path. */
export async function resolveMitigation(idOrPath: string): Promise<Arm64Mitigation> {
  return byId(idOrPath) ?? loadModule(idOrPath);
}
