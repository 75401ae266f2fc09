// Loading a mitigation module the user wrote: a missing file, a module with
// no mitigation export, or one of the wrong shape is bad input, reported in
// one line.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { INVARIANTS } from '../../model/claims.ts';
import { ARCH_INVARIANTS } from '../../model/claims.ts';
import type { Mitigation } from '../../model/mitigations/types.ts';
import { byId } from '../../model/mitigations/index.ts';

const fn = z.custom<(...a: unknown[]) => unknown>((v) => typeof v === 'function', 'must be a function');
const hooks = <H extends string>(names: readonly H[]) =>
  z.object(Object.fromEntries(names.map((h) => [h, fn])) as Record<H, typeof fn>).extend({ layout: fn.optional() });
const ARM64_HOOKS = ['cpuSetup', 'el0Entry', 'el0Exit', 'el1Entry', 'el1Exit', 'switchMm', 'flushTlbMm', 'flushTlbPage', 'flushTlbRange', 'uaccessEnable', 'uaccessDisable'] as const;
const X86_HOOKS = ['cpuSetup', 'switchToKernelCr3', 'switchToUserCr3', 'saveAndSwitchToKernelCr3', 'restoreCr3', 'switchMmIrqsOff', 'flushTlbOneUser', 'flushTlbOneKernel', 'flushTlbLocal', 'flushTlbAll', 'mapLdtStruct', 'unmapLdtStruct', 'dsUpdateCea', 'dsClearCea'] as const;

const common = {
  id: z.string().min(1),
  title: z.string(),
  source: z.string(),
  claims: z.array(z.enum(INVARIANTS)),
  userShared: fn,
  expect: z.object({ violates: z.array(z.enum(INVARIANTS)).min(1), twin: z.string() }).optional(),
  options: z.object({}).passthrough().optional(),
};

const mitigationSchema = z.discriminatedUnion('arch', [
  z.object({ ...common, arch: z.literal('arm64'), nG: z.boolean(), unmapKernelAtEl0: z.boolean(), hooks: hooks(ARM64_HOOKS) }),
  z.object({ ...common, arch: z.literal('x86'), pti: z.boolean(), globalKernel: z.boolean(), globalShared: z.boolean(), hooks: hooks(X86_HOOKS) }),
]);

/** Check that `value` has the shape of a mitigation; throws a one-line Error naming the first problem. */
export function asMitigation(value: unknown, where: string): Mitigation {
  const r = mitigationSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`${where}: not a mitigation: ${i.path.join('.') || '(export)'} ${i.message}`);
  }
  const m = value as Mitigation, foreign = [...m.claims, ...(m.expect?.violates ?? [])].find((id) => !ARCH_INVARIANTS[m.arch].includes(id));
  if (foreign) throw new Error(`${where}: not a mitigation: invariant ${foreign} does not apply to ${m.arch}`);
  return m;
}

/** Import a module file and return its `mitigation` (or default) export. */
export async function loadModule(path: string): Promise<Mitigation> {
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
export async function resolveMitigation(idOrPath: string): Promise<Mitigation> {
  return byId(idOrPath) ?? loadModule(idOrPath);
}
