/**
 * Harness failure strategies as Convoy failure rules (SPEC section 4), whichever generation they
 * come from: the error types each Harness type stands for, and what Convoy does differently with
 * barrier errors under a retry.
 *
 * Pure module.
 */
import { FINAL_ERROR_TYPES, isFinalErrorType } from '../model/failure-policy';
import type { Action, ErrorType, FallbackAction } from '../model/plan';
import type { FileFailureRule } from '../pipeline-file/schema';
import { type HarnessLocation, type ImportReport } from './report';

/** A Convoy failure rule and the Harness failure strategy it came from. */
export interface PlacedRule {
  rule: FileFailureRule;
  at: HarnessLocation;
}

/**
 * What each Harness error type stands for in Convoy: a list of Convoy error types, or `null` for
 * a type Convoy steps never fail with (dropped from the rule, with a warning). Types missing from
 * the table are not Harness types: an error.
 */
export type ErrorTypeTable = Readonly<Record<string, readonly ErrorType[] | null>>;

/**
 * The Convoy error types of a Harness rule's error list (at `at`), each once; `any` absorbs the
 * rest. Empty when nothing is left (the caller drops the rule).
 */
export function mapErrorTypes(
  harnessTypes: readonly string[],
  table: ErrorTypeTable,
  at: HarnessLocation,
  report: ImportReport,
): ErrorType[] {
  const types = new Set<ErrorType>();
  for (const harnessType of harnessTypes) {
    if (!Object.hasOwn(table, harnessType)) {
      report.error(
        at,
        `unknown error type '${harnessType}'; expected one of ${Object.keys(table).join(', ')}`,
      );
      continue;
    }
    const mapped = table[harnessType];
    if (mapped === null || mapped === undefined) {
      report.warn(
        at,
        `error type '${harnessType}' has no Convoy counterpart (Convoy steps never fail with it): dropped from this rule`,
      );
      continue;
    }
    for (const type of mapped) types.add(type);
  }
  return types.has('any') ? ['any'] : [...types];
}

/**
 * A Convoy rule for `on`: `action` with its details. Retry rules that cover barrier errors are
 * split, because Convoy never retries a barrier (its outcome is final, SPEC section 2 rule 5)
 * where Harness would run the barrier step again and fail again: barrier errors go straight to
 * the action after the retries (`onRetryFailure`), in a rule right after the retry rule.
 */
export function placeRule(rule: FileFailureRule, at: HarnessLocation, report: ImportReport): PlacedRule[] {
  if (rule.action !== 'retry') return [{ rule, at }];
  const coversAny = rule.on.includes('any');
  const finals = coversAny ? [...FINAL_ERROR_TYPES] : rule.on.filter(isFinalErrorType);
  if (finals.length === 0) return [{ rule, at }];
  const placed: PlacedRule[] = [];
  const retryOn = rule.on.filter((type) => !isFinalErrorType(type));
  if (retryOn.length > 0) placed.push({ rule: { ...rule, on: retryOn }, at });
  const fallback = rule.onRetryFailure;
  if (fallback !== undefined) {
    placed.push({ rule: { on: finals, action: fallback }, at });
    report.warn(
      at,
      `Convoy does not retry a barrier (its outcome is final): ${finals.join(' and ')} go straight to ` +
        `'${fallback}', the action after the retries`,
    );
  } else {
    report.warn(
      at,
      `Convoy does not retry a barrier (its outcome is final): for ${finals.join(' and ')} the next ` +
        'matching rule applies, else the default (rollback when there are rollback steps, else abort)',
    );
  }
  return placed;
}

/** Builds a rule from parts, leaving out what is undefined (the schema rejects stray fields). */
export function buildRule(
  on: ErrorType[],
  action: Action,
  details: {
    retryCount?: number;
    retryIntervalsMs?: number[];
    onRetryFailure?: FallbackAction;
    timeoutMs?: number;
    onTimeout?: FileFailureRule['onTimeout'];
  } = {},
): FileFailureRule {
  const rule: FileFailureRule = { on, action };
  for (const [key, value] of Object.entries(details)) {
    if (value !== undefined) (rule as unknown as Record<string, unknown>)[key] = value;
  }
  return rule;
}

/** Retry waits in milliseconds: a 0 becomes 1 ms (Convoy's smallest); none at all when every wait is 0. */
export function retryIntervalsMs(intervals: readonly (number | undefined)[]): number[] | undefined {
  const known = intervals.filter((ms): ms is number => ms !== undefined);
  if (known.length === 0 || known.every((ms) => ms === 0)) return undefined;
  return known.map((ms) => Math.max(1, ms));
}
