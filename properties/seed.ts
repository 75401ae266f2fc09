// The fast-check seed used by tests, the CLI and the benchmark.

export const DEFAULT_SEED = 20171117;

/** `FC_SEED` if set (an integer), else the fixed default. */
export function fcSeed(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.FC_SEED;
  if (v === undefined || v === '') return DEFAULT_SEED;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`FC_SEED must be an integer, got "${v}"`);
  return n;
}
