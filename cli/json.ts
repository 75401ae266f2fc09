// `review --json`: plain data for CI and scripts.

import type { MitigationReview } from './review.ts';

export function toJson(reviews: readonly MitigationReview[]): unknown {
  return reviews.map((r) => ({
    id: r.mitigation.id,
    title: r.mitigation.title,
    claims: r.mitigation.claims,
    error: r.error ?? null,
    verdicts: r.verdicts.map((v) => ({
      invariant: v.invariant, claimed: v.claimed, holds: v.holds, runs: v.runs, file: v.file ?? null,
      counterexample: v.counterexample ?? null,
    })),
    cost: r.cost,
  }));
}
