// A canonical text of everything in a machine that can affect what happens
// next, so the explorer visits each state once. A fill's sequence number
// only matters against the pending TLBIs (a TLBI removes only what was
// filled before it, and any later TLBI is later than every fill), so an
// entry keeps just how many pending TLBIs are newer than it, and a pending
// TLBI its place among them. Ghost names are left out.

import { encode } from '../../model/arch/arm64/descriptor.ts';
import type { Machine } from '../../model/arch/arm64/machine.ts';
import type { TlbEntry } from '../../model/arch/arm64/tlb.ts';
import type { WalkEntry } from '../../model/arch/arm64/walkcache.ts';
import type { Perms, WalkStep } from '../../model/arch/arm64/walk.ts';

const perms = (p: Perms): string => `${+p.el0}${+p.write}${+p.uxn}${+p.pxn}`;
const from = (f: WalkStep): string => `${f.table}/${f.index}@${f.epoch ?? ''}`;

const encoded = new WeakMap<object, bigint>();
const enc = (d: Parameters<typeof encode>[0]): bigint => {
  let v = encoded.get(d);
  if (v === undefined) encoded.set(d, (v = encode(d)));
  return v;
};

export function fingerprint(m: Machine): string {
  const tlbiSeqs = m.pendingTlbi.map((p) => p.seq);
  const newer = (seq: number) => tlbiSeqs.filter((t) => t > seq).length;
  const tlb = (e: TlbEntry) => `${e.vaBase}:${e.level}:${e.asid ?? 'g'}:${enc(e.leaf)}:${perms(e.perms)}:${e.root}:${from(e.from)}:${newer(e.seq)}`;
  const walk = (e: WalkEntry) => `${e.vaBase}:${e.level}:${e.asid}:${e.next}:${perms(e.perms)}:${from(e.from)}:${newer(e.seq)}`;
  const cpus = m.cpus.map((c) => [
    Object.values(c.regs).join(','), [...c.pending].join(','), c.EL, +c.I, JSON.stringify(c.saved),
    c.tlb.entries().map(tlb).sort().join(' '), c.walkCache.entries().map(walk).sort().join(' '),
  ].join('|'));
  const tables = [...m.mem.frames].filter(([, f]) => f.table).sort(([a], [b]) => a - b)
    .map(([pa, f]) => `${pa}@${f.epoch}:${[...f.table!].sort(([a], [b]) => a - b).map(([i, d]) => `${i}=${enc(d)}`).join(',')}`);
  const tlbis = m.pendingTlbi.map((p) => `${p.issuer}>${p.target}:${p.op.type}${+p.op.is}:${p.op.va ?? ''}:${p.op.asid ?? ''}:${newer(p.seq)}`);
  return [cpus.join('#'), tables.join(';'), tlbis.join(';'), m.stores.key()].join('\n');
}
