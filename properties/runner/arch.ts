// The kernel for a mitigation's architecture, with its options resolved.

import { Arm64Kernel, DEFAULT_OPTIONS as ARM64_DEFAULTS } from '../../model/kernel/arm64/kernel.ts';
import { X86Kernel, DEFAULT_OPTIONS as X86_DEFAULTS } from '../../model/kernel/x86/kernel.ts';
import type { Mitigation, OptionOverrides, Options } from '../../model/mitigations/types.ts';
import type { Arm64Mitigation, Arm64Options } from '../../model/mitigations/arm64/types.ts';
import type { X86Mitigation, X86Options } from '../../model/mitigations/x86/types.ts';

/** A kernel of any architecture, told apart by `arch`. */
export type AnyKernel = Arm64Kernel | X86Kernel;
/** The kernel class a mitigation runs on. */
export type KernelOf<M extends Mitigation> = M extends Arm64Mitigation ? Arm64Kernel : M extends X86Mitigation ? X86Kernel : never;

/** The run's options: the architecture's defaults, then the caller's, then the mitigation's own. */
export function resolveOptions(m: Mitigation, over: OptionOverrides = {}): Options {
  const defaults: Options = m.arch === 'x86' ? X86_DEFAULTS : ARM64_DEFAULTS;
  const known = Object.fromEntries(Object.entries(over).filter(([key]) => key in defaults));
  return { ...defaults, ...known, ...m.options } as Options;
}

export function newKernel<M extends Mitigation>(m: M, opts: Options): KernelOf<M> {
  const k = m.arch === 'x86' ? new X86Kernel(m, opts as X86Options) : new Arm64Kernel(m, opts as Arm64Options);
  return k as KernelOf<M>;
}
