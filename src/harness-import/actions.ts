/**
 * Harness failure actions in Convoy terms. A Harness action can stand in three places, and Convoy
 * accepts different actions in each: a rule's own action (`abort`, `rollback`, `ignore`, `retry`,
 * `manual-intervention`), the action after retries (`abort`, `rollback`, `ignore`,
 * `manual-intervention`) and a manual intervention's timeout action (`abort`, `rollback`, `ignore`,
 * `mark-success`). A table names the Convoy action for each place, with a note when it is only an
 * approximation (printed as a warning); a place it has no entry for is an error.
 *
 * Pure module.
 */
import type { HarnessLocation, ImportReport } from './report';

export type ActionPlace = 'rule' | 'afterRetry' | 'onTimeout';

/** A Convoy action, or `[action, note]` when it only approximates the Harness one. */
export type ActionTarget = string | readonly [string, string];

/** Harness action name → its Convoy action in each place it may stand. */
export type ActionTable = Readonly<Record<string, Partial<Record<ActionPlace, ActionTarget>>>>;

const PLACE_NAMES: Readonly<Record<ActionPlace, string>> = {
  rule: 'a failure strategy',
  afterRetry: 'the action after retries',
  onTimeout: "a manual intervention's timeout action",
};

/** The Convoy action for Harness action `name` in `place`, reporting approximations and gaps at `at`. */
export function mapAction(
  name: string,
  table: ActionTable,
  place: ActionPlace,
  at: HarnessLocation,
  report: ImportReport,
): string | undefined {
  if (!Object.hasOwn(table, name)) {
    report.error(at, `unknown action '${name}'; expected one of ${Object.keys(table).join(', ')}`);
    return undefined;
  }
  const target = table[name]![place];
  if (target === undefined) {
    report.error(at, `'${name}' as ${PLACE_NAMES[place]} has no Convoy counterpart`);
    return undefined;
  }
  if (typeof target === 'string') return target;
  const [action, note] = target;
  report.warn(at, `'${name}' is carried over as '${action}': ${note}`);
  return action;
}
