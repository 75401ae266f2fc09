// "Hide everything" by never leaving the kernel: `tramp_exit` unmaps the
// kernel and then falls through instead of `eret`, so the task's code runs
// at EL1 and EL0 never sees anything. Every isolation invariant holds
// vacuously; the functional invariant must fail. Not a historical bug: the
// straw man that shows isolation checks alone cannot tell a broken kernel
// from a safe one.

import type { Hook } from '../../../arch/arm64/ops.ts';
import { kptiHooks, mitigation as kpti, trampExit } from '../kpti.ts';
import type { Arm64Mitigation } from '../types.ts';

/** `hook` with every `eret` left out (the rest passes through, results included). */
function* withoutEret(hook: Hook): Hook {
  let r = hook.next();
  while (!r.done) r = r.value.op === 'eret' ? hook.next() : hook.next(yield r.value);
}

export const mitigation: Arm64Mitigation = {
  ...kpti,
  id: 'arm64/broken/kpti-exit-no-eret',
  title: 'KPTI exit that never returns to EL0 (tramp_exit without eret)',
  source: 'drops the eret that ends tramp_exit (arch/arm64/kernel/entry.S); a mitigation that hides everything by breaking the kernel',
  expect: { violates: ['functional'], twin: 'arm64/kpti' },
  // BUG: no eret.
  hooks: { ...kptiHooks, el0Exit: (c) => withoutEret(trampExit(c)) },
};
export default mitigation;
