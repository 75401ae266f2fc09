// vitest setup: every property run is deterministic. The global fast-check
// seed comes from FC_SEED, with a fixed default (the date Will Deacon posted
// the arm64 KPTI series); `npm run soak` varies it.

import fc from 'fast-check';
import { fcSeed } from './seed.ts';

fc.configureGlobal({ seed: fcSeed() });
