// A mitigation of any architecture: what the runner, the CLI and the corpus
// handle without knowing the architecture.

import type { Arm64Mitigation, Arm64Options } from './arm64/types.ts';
import type { X86Mitigation, X86Options } from './x86/types.ts';

export type Mitigation = Arm64Mitigation | X86Mitigation;
export type Arch = Mitigation['arch'];
/** Kernel options of any architecture (each mitigation's `options` are its own architecture's). */
export type Options = Arm64Options | X86Options;
/** Overrides a caller may give: fields of either architecture (each kernel reads its own). */
export type OptionOverrides = Partial<Arm64Options & X86Options>;
export type { Expectation } from './arm64/types.ts';
