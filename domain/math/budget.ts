// Deterministic resource bounds for answer comparison.
//
// Every comparison is bounded without clocks (the domain layer stays deterministic, so the same pair gives the same
// verdict on any machine and under workflow replay): answers longer than a size limit skip symbolic work, each
// evaluation spends steps from a budget, and values that overflow double precision stop the numeric path.
// Hitting any bound raises `BoundExceeded`; `mathEqualDetailed` turns it into `{ equal: false, timedOut: true }`.

/** Which bound stopped a comparison. */
export type BoundKind = 'input-size' | 'steps' | 'magnitude';

export class BoundExceeded extends Error {
  constructor(readonly bound: BoundKind) {
    super(`math comparison bound exceeded: ${bound}`);
    this.name = 'BoundExceeded';
  }
}

/** A counter of evaluation steps shared by everything one comparison does. */
export class EvaluationBudget {
  private remainingSteps: number;

  constructor(steps: number) {
    this.remainingSteps = steps;
  }

  /** Spends `steps` (one per evaluated node, one per loop iteration, n for n!); throws when the budget is gone. */
  spend(steps = 1): void {
    this.remainingSteps -= steps;
    if (this.remainingSteps < 0) throw new BoundExceeded('steps');
  }

  get remaining(): number {
    return this.remainingSteps;
  }
}
