// The kernel for a mitigation's architecture, with its options resolved.

import { Arm64Kernel, DEFAULT_OPTIONS as ARM64_DEFAULTS } from '../../model/kernel/arm64/kernel.ts';
import type { Mitigation, Options } from '../../model/mitigations/types.ts';
import type { Arm64Mitigation } from '../../model/mitigations/arm64/types.ts';

/** A kernel of any architecture, told apart by `arch`. */
export type AnyKernel = Arm64Kernel;
/** The kernel class a mitigation runs on. */
export type KernelOf<M extends Mitigation> = M extends Arm64Mitigation ? Arm64Kernel : never;

/** The run's options: the architecture's defaults, then the caller's, then the mitigation's own. */
export function resolveOptions(m: Mitigation, over: Partial<Options> = {}): Options {
  return { ...ARM64_DEFAULTS, ...over, ...m.options };
}

export function newKernel<M extends Mitigation>(m: M, opts: Options): KernelOf<M> {
  return new Arm64Kernel(m, opts) as KernelOf<M>;
}
