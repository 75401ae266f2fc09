// The bundled mitigations: `isocheck list` shows them, `isocheck review`
// with no module reviews the reference ones, and replay finds twins here.

import type { Mitigation } from './types.ts';
import { mitigation as kpti } from './arm64/kpti.ts';
import { mitigation as nokpti } from './arm64/nokpti.ts';
import { mitigation as ngMmuOff } from './arm64/kpti-ng-mmu-off.ts';
import { mitigation as ngMmuOn } from './arm64/kpti-ng-mmu-on.ts';
import { mitigation as globalKernel } from './arm64/broken/kpti-global-kernel.ts';
import { mitigation as kernelAsidOnly } from './arm64/broken/kpti-tlbi-kernel-asid-only.ts';
import { mitigation as exitKernelAsid } from './arm64/broken/kpti-exit-kernel-asid.ts';
import { mitigation as exitSwapper } from './arm64/broken/kpti-exit-swapper.ts';
import { mitigation as rolloverNoFlush } from './arm64/broken/asid-rollover-no-flush.ts';
import { mitigation as noTrampMap } from './arm64/broken/kpti-no-tramp-map.ts';
import { mitigation as exitNoEret } from './arm64/broken/kpti-exit-no-eret.ts';
import { mitigation as swpanNoRestore } from './arm64/broken/kpti-swpan-no-ttbr0-restore.ts';
import { mitigation as rodataOff } from './arm64/broken/kpti-rodata-off.ts';
import { mitigation as ngFixmapNoBbm } from './arm64/broken/kpti-ng-fixmap-no-bbm.ts';
import { mitigation as ngSplitLive } from './arm64/broken/kpti-ng-split-live.ts';
import { mitigation as ngLocalBroken } from './arm64/broken/kpti-ng-local-tlbi.ts';
import { mitigation as ngNoDsbBroken } from './arm64/broken/kpti-ng-no-final-dsb.ts';
import { mitigation as ngSecondaryNoTtbr1 } from './arm64/broken/kpti-ng-secondary-no-ttbr1.ts';
import { mitigation as ngNoPublishDsb } from './arm64/broken/kpti-ng-no-publish-dsb.ts';
import { mitigation as ngFlagInIdmapText } from './arm64/broken/kpti-ng-flag-in-idmap-text.ts';
import { mitigation as ngMmuOffMmuOn } from './arm64/broken/kpti-ng-mmu-off-mmu-on.ts';
import { mitigation as ngLocalTlbi } from './arm64/safe/kpti-ng-local-tlbi.ts';
import { mitigation as ngNoFinalDsb } from './arm64/safe/kpti-ng-no-final-dsb.ts';
import { mitigation as ngReleaseEarly } from './arm64/safe/kpti-ng-release-early.ts';
import { mitigation as ngInPlace } from './arm64/safe/kpti-ng-in-place.ts';
import { mitigation as ngSplitParked } from './arm64/safe/kpti-ng-split-while-parked.ts';
import { mitigation as ptiPcid } from './x86/pti-pcid.ts';
import { mitigation as ptiNopcid } from './x86/pti-nopcid.ts';
import { mitigation as ptiPcid415 } from './x86/pti-pcid-4.15.ts';
import { mitigation as ptiNopcid415 } from './x86/pti-nopcid-4.15.ts';
import { mitigation as ptiNopcidGlobalText } from './x86/pti-nopcid-global-text.ts';
import { mitigation as nopti } from './x86/nopti.ts';
import { mitigation as ptiGlobalKernel } from './x86/broken/pti-global-kernel.ts';
import { mitigation as ptiFlushOneUserNoop } from './x86/broken/pti-flush-one-user-noop.ts';
import { mitigation as ptiUserCr3Noflush } from './x86/broken/pti-user-cr3-always-noflush.ts';
import { mitigation as asidReuseNoFlush } from './x86/broken/asid-reuse-no-flush.ts';
import { mitigation as ldtStillMapped } from './x86/broken/ldt-free-still-mapped.ts';
import { mitigation as cloneImageToEnd } from './x86/broken/pti-clone-image-to-end.ts';
import { mitigation as dsLocalFlush } from './x86/broken/ds-cea-local-flush.ts';
import { mitigation as ptiNoEspfix } from './x86/broken/pti-no-espfix.ts';
import { mitigation as ptiLdtNoUserPgd } from './x86/broken/pti-ldt-no-user-pgd.ts';
import { mitigation as ptiNoCea } from './x86/broken/pti-no-cea.ts';

export interface Bundled {
  readonly mitigation: Mitigation;
  /** Module path relative to the repository root. */
  readonly path: string;
}

const at = (m: Mitigation): Bundled => ({ mitigation: m, path: `model/mitigations/${m.id}.ts` });

/** Reference mitigations: what Linux merged (and the baseline without it). */
export const REFERENCE: readonly Bundled[] = [kpti, nokpti, ngMmuOff, ngMmuOn, ptiPcid, ptiPcid415, ptiNopcid, ptiNopcid415, ptiNopcidGlobalText, nopti].map(at);
/** Deliberately broken mitigations, each with its expected violation and twin. */
export const BROKEN: readonly Bundled[] = [globalKernel, kernelAsidOnly, exitKernelAsid, exitSwapper, rolloverNoFlush, noTrampMap, exitNoEret, swpanNoRestore, rodataOff,
  ngFixmapNoBbm, ngSplitLive, ngLocalBroken, ngNoDsbBroken, ngSecondaryNoTtbr1, ngNoPublishDsb, ngFlagInIdmapText, ngMmuOffMmuOn, ptiGlobalKernel, ptiFlushOneUserNoop, ptiUserCr3Noflush, asidReuseNoFlush, ldtStillMapped, cloneImageToEnd, dsLocalFlush,
  ptiNoEspfix, ptiLdtNoUserPgd, ptiNoCea].map(at);
/** Changes that look broken but hold every invariant under the Arm ARM rules (shown by properties/ng-variants.test.ts). */
export const SAFE: readonly Bundled[] = [ngLocalTlbi, ngNoFinalDsb, ngReleaseEarly, ngInPlace, ngSplitParked].map(at);
export const BUNDLED: readonly Bundled[] = [...REFERENCE, ...BROKEN, ...SAFE];

export function byId(id: string): Mitigation | undefined {
  return BUNDLED.find((b) => b.mitigation.id === id)?.mitigation;
}
