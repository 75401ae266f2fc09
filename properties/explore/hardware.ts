// The hardware events the explorer may insert at any point: each is tried
// on a clone of the machine, and kept only if it changed something.
// - fill: a speculative walk and TLB fill (Arm ARM R_SQBCS) of each VA the
//   scenario names, on each CPU;
// - evict: any one TLB or walk-cache entry of any CPU (Cpu.evict);
// - land: a pending TLBI finishing early on its target (R_YNJCP);
// - drain: a CPU's oldest pending table store becoming visible to walkers (stores.ts);
// - sync: a pending system-register write taking effect before the ISB (D24.1).

import type { Machine } from '../../model/arch/arm64/machine.ts';
import type { VA } from '../../model/arch/va.ts';

export interface HardwareStep {
  /** The machine after the event (effects of the event only). */
  readonly machine: Machine;
  /** For witnesses: `cpu1 fill 0x400000`. */
  readonly text: string;
}

/** Every hardware event possible in `m` that changes its state. */
export function* hardwareEvents(m: Machine, vas: readonly VA[]): Generator<HardwareStep> {
  const tryEvent = (cpu: number, text: string, act: (n: Machine) => boolean): HardwareStep | undefined => {
    const n = m.clone();
    n.effects = [];
    return act(n) ? { machine: n, text: `cpu${cpu} ${text}` } : undefined;
  };
  for (const cpu of m.cpus) {
    const c = cpu.id;
    const events = [
      ...vas.map((va) => tryEvent(c, `fill 0x${va.toString(16)}`, (n) => (n.speculate(n.cpus[c], va), n.effects.length > 0))),
      ...Array.from({ length: cpu.tlb.size + cpu.walkCache.size }, (_, i) => tryEvent(c, `evict #${i}`, (n) => n.cpus[c].evict(i) !== undefined)),
      m.pendingTlbi.some((p) => p.target === c) ? tryEvent(c, 'TLBI lands', (n) => n.land(n.cpus[c])) : undefined,
      m.stores.size ? tryEvent(c, 'store drains', (n) => n.drain(n.cpus[c])) : undefined,
      ...[...cpu.pending.keys()].map((reg, i) => tryEvent(c, `${reg} takes effect`, (n) => n.cpus[c].takeEffect(i) !== undefined)),
    ];
    for (const e of events) if (e) yield e;
  }
}
