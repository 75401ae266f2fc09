// A mitigation of any architecture: what the runner, the CLI and the corpus
// handle without knowing the architecture.

import type { Arm64Mitigation, Arm64Options } from './arm64/types.ts';

export type Mitigation = Arm64Mitigation;
export type Arch = Mitigation['arch'];
/** Kernel options of any architecture (each mitigation's `options` are its own architecture's). */
export type Options = Arm64Options;
export type { Expectation } from './arm64/types.ts';
