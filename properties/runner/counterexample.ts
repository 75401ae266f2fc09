// Counterexample files (DESIGN.md "Counterexamples"): plain JSON, not
// fast-check internals. Written atomically, named by a hash of what makes
// them distinct (mitigation, invariant, options, workload), so a stored file
// is never overwritten by a different one. Loading validates everything and
// fails with one line naming the problem.

import { createHash, randomUUID } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { ARCH_INVARIANTS, INVARIANTS, type InvariantId } from '../../model/claims.ts';
import { SYSCALLS, type Event } from '../../model/kernel/events.ts';
import type { Options } from '../../model/mitigations/types.ts';
import type { Located, TraceLine } from './simulate.ts';

export const FORMAT = 'isocheck-counterexample';
/** 2: hooks interleave across CPUs (`run` events); hardware events have no `delay`. */
export const VERSION = 2;

const nat = z.number().int().min(0);
const cpu = z.number().int().min(0).max(63);
const prot = z.enum(['r', 'rw', 'rx']);
const eventSchema = z.discriminatedUnion('k', [
  z.object({ k: z.literal('syscall'), cpu, nr: z.enum(SYSCALLS), slot: nat, prot, task: nat }).strict(),
  z.object({ k: z.literal('access'), cpu, op: z.enum(['load', 'store']), slot: nat }).strict(),
  z.object({ k: z.literal('irq'), cpu }).strict(),
  z.object({ k: z.literal('switch'), cpu, to: nat }).strict(),
  z.object({ k: z.literal('nmi'), cpu }).strict(),
  z.object({ k: z.literal('segment'), cpu, reg: z.enum(['ds', 'ss']) }).strict(),
  z.object({ k: z.literal('run'), cpu, n: nat }).strict(),
  z.object({ k: z.literal('fill'), cpu, va: nat }).strict(),
  z.object({ k: z.literal('evict'), cpu, n: nat }).strict(),
  z.object({ k: z.literal('sync'), cpu, which: nat }).strict(),
  z.object({ k: z.literal('land'), cpu }).strict(),
  z.object({ k: z.literal('drain'), cpu }).strict(),
]);

const kernelOptions = {
  ncpus: z.number().int().min(2).max(8),
  maxTasks: z.number().int().min(1).max(64),
  bootTasks: z.number().int().min(1).max(64),
};
const arm64Options = z.object({ ...kernelOptions, asidBits: z.number().int().min(3).max(16), swPan: z.boolean() }).strict();
const x86Options = z.object({ ...kernelOptions, pcid: z.boolean(), invpcid: z.boolean(), kaslr: z.number().int().min(0).max(2 ** 30 - 2 ** 21).multipleOf(2 ** 21), dynAsids: z.number().int().min(1).max(6) }).strict();
const ARCHES = ['arm64', 'x86'] as const;

const invariant = z.enum(INVARIANTS);

export const counterexampleSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  arch: z.enum(ARCHES),
  mitigation: z.string().min(1),
  /** Module file for a mitigation that is not bundled (relative to the working directory). */
  module: z.string().min(1).optional(),
  twin: z.string().min(1).optional(),
  invariant,
  options: z.union([arm64Options, x86Options]),
  seed: z.number().int(),
  path: z.string(),
  workload: z.array(eventSchema),
  violation: z.object({
    invariant, rule: z.string(), step: nat, cpu: nat, event: z.number().int(),
    witness: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  }),
  trace: z.array(z.object({ step: nat, cpu: nat, event: z.number().int(), text: z.string() })),
}).strict().superRefine((c, ctx) => {
  // Fields that parse one by one but do not fit together: a file from another arch, machine or invariant.
  if (('asidBits' in c.options) !== (c.arch === 'arm64')) ctx.addIssue({ code: 'custom', message: 'options are not for this arch', path: ['options'] });
  if (!ARCH_INVARIANTS[c.arch].includes(c.invariant)) ctx.addIssue({ code: 'custom', message: `${c.invariant} is not an ${c.arch} invariant`, path: ['invariant'] });
  if (c.violation.invariant !== c.invariant) ctx.addIssue({ code: 'custom', message: `violation is of ${c.violation.invariant}, not ${c.invariant}`, path: ['violation', 'invariant'] });
  const bad = c.workload.findIndex((e) => e.cpu >= c.options.ncpus);
  if (bad >= 0) ctx.addIssue({ code: 'custom', message: `cpu ${c.workload[bad].cpu} out of range 0..${c.options.ncpus - 1}`, path: ['workload', bad, 'cpu'] });
});

export type Counterexample = z.infer<typeof counterexampleSchema>;

export interface NewCounterexample {
  readonly arch: (typeof ARCHES)[number];
  readonly mitigation: string;
  readonly module?: string;
  readonly twin?: string;
  readonly invariant: InvariantId;
  readonly options: Options;
  readonly seed: number;
  readonly path: string;
  readonly workload: readonly Event[];
  readonly violation: Located;
  readonly trace: readonly TraceLine[];
}

export function build(c: NewCounterexample): Counterexample {
  return {
    format: FORMAT, version: VERSION, arch: c.arch, mitigation: c.mitigation,
    ...(c.module ? { module: c.module } : {}), ...(c.twin ? { twin: c.twin } : {}),
    invariant: c.invariant, options: { ...c.options }, seed: c.seed, path: c.path, workload: [...c.workload] as Counterexample['workload'],
    violation: { ...c.violation }, trace: [...c.trace],
  };
}

/** What makes two counterexamples the same one. */
const identity = (c: Counterexample): string => {
  const options = Object.fromEntries(Object.entries(c.options).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify([c.mitigation, c.invariant, options, c.workload])).digest('hex').slice(0, 12);
};

/** `counterexamples/arm64/broken/kpti-global-kernel--el0-isolation--<hash>.json`. */
export const fileName = (dir: string, c: Counterexample): string => join(dir, `${c.mitigation}--${c.invariant}--${identity(c)}.json`);

/**
 * Save atomically (write a temporary file, then rename). If the file already
 * exists it holds the same counterexample by construction of its name and is
 * left alone; a file there that does not load, or holds another
 * counterexample, is refused rather than replaced.
 */
export function save(dir: string, c: Counterexample): { file: string; written: boolean } {
  const file = fileName(dir, c);
  if (existsSync(file)) {
    const old = load(file);
    if (identity(old) !== identity(c)) throw new Error(`${file}: holds a different counterexample; refusing to overwrite`);
    return { file, written: false };
  }
  mkdirSync(dirname(file), { recursive: true });
  // Unique per process and thread (review workers share a pid).
  const tmp = `${file}.${process.pid}-${threadId}-${randomUUID()}.tmp`;
  writeFileSync(tmp, JSON.stringify(c, null, 2) + '\n', { flag: 'wx' });
  renameSync(tmp, file);
  return { file, written: true };
}

/** Read and validate a counterexample file; throws an Error with a one-line message. */
export function load(file: string): Counterexample {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== FORMAT) {
    throw new Error(`${file}: not an isocheck counterexample (format is not "${FORMAT}")`);
  }
  if ((json as { version?: unknown }).version !== VERSION) {
    throw new Error(`${file}: unsupported counterexample version ${String((json as { version?: unknown }).version)} (this isocheck reads ${VERSION})`);
  }
  const parsed = counterexampleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: malformed counterexample at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}
