import type { Action, Outcome, OutcomeStatus, Problem } from './types.js';

const STATUS_CODES: Readonly<Record<OutcomeStatus, number>> = { applied: 0, stale: 1, failed: 2 };
const STATUSES: readonly OutcomeStatus[] = ['applied', 'stale', 'failed'];

/**
 * A run's outcomes in the order they arrived, held compactly. An outcome that says no more than its action
 * and status (every applied copy of a first sync) is kept as the action's reference and a status byte, not as
 * an object: at 100k files the objects were 5 MB of heap, alive until the run was reported, and the run's
 * peak RSS (issue 11). Outcomes that carry records or a problem are kept as they came. Reading gives
 * Outcome objects again, made on the way for the plain ones.
 */
export class Outcomes implements Iterable<Outcome> {
  private readonly actions: Action[] = [];
  private statuses = new Uint8Array(256);
  /** The outcomes with more to say than action and status, by their place in arrival order. */
  private readonly whole = new Map<number, Outcome>();

  static of(outcomes: Iterable<Outcome>): Outcomes {
    const out = new Outcomes();
    for (const o of outcomes) out.push(o);
    return out;
  }

  get length(): number {
    return this.actions.length;
  }

  push(o: Outcome): void {
    const at = this.actions.length;
    if (at === this.statuses.length) {
      const grown = new Uint8Array(at * 2);
      grown.set(this.statuses);
      this.statuses = grown;
    }
    this.actions.push(o.action);
    this.statuses[at] = STATUS_CODES[o.status];
    if (o.records !== undefined || o.problem !== undefined) this.whole.set(at, o);
  }

  *[Symbol.iterator](): Iterator<Outcome> {
    for (let i = 0; i < this.actions.length; i++) yield this.whole.get(i) ?? { action: this.actions[i] as Action, status: this.statusAt(i) };
  }

  /** The actions applied, in arrival order, one at a time: counting them needs no array as long as the plan (a million at 1M paths). */
  *applied(): IterableIterator<Action> {
    for (let i = 0; i < this.actions.length; i++) if (this.statuses[i] === STATUS_CODES.applied) yield this.actions[i] as Action;
  }

  /** The actions applied, in arrival order. */
  appliedActions(): Action[] {
    const out: Action[] = [];
    for (let i = 0; i < this.actions.length; i++) if (this.statuses[i] === STATUS_CODES.applied) out.push(this.actions[i] as Action);
    return out;
  }

  /** The problems the outcomes carry, in arrival order. */
  problems(): Problem[] {
    const out: Problem[] = [];
    // the map's order is arrival order: entries are added with growing places
    for (const o of this.whole.values()) if (o.problem !== undefined) out.push(o.problem);
    return out;
  }

  /** Conflicts whose resolution did not apply (stale or failed). */
  conflictsNotApplied(): number {
    let n = 0;
    for (let i = 0; i < this.actions.length; i++) if (this.statuses[i] !== STATUS_CODES.applied && (this.actions[i] as Action).type === 'conflict') n++;
    return n;
  }

  /** Whether any action was applied or any outcome carries a problem. */
  anyAppliedOrProblem(): boolean {
    if (this.statuses.subarray(0, this.actions.length).includes(STATUS_CODES.applied)) return true;
    for (const o of this.whole.values()) if (o.problem !== undefined) return true;
    return false;
  }

  private statusAt(i: number): OutcomeStatus {
    return STATUSES[this.statuses[i] as number] as OutcomeStatus;
  }
}
