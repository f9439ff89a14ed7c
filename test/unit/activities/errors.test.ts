import { ApplicationFailure } from '@temporalio/common';
import { ActivityErrorTypes, shellActivityInputSchema } from '../../../src/model/step-activities';
import {
  describeError,
  lastChars,
  parseActivityInput,
  stepFailed,
  stepTimedOut,
} from '../../../src/activities/errors';

describe('activity failures', () => {
  it('are non-retryable ApplicationFailures typed with the step error types', () => {
    const failed = stepFailed('boom', { exitCode: 1 });
    expect(failed).toBeInstanceOf(ApplicationFailure);
    expect(failed).toMatchObject({
      type: 'step-failed',
      nonRetryable: true,
      message: 'boom',
      details: [{ exitCode: 1 }],
    });
    const timedOut = stepTimedOut('slow', {});
    expect(timedOut).toMatchObject({ type: 'step-timeout', nonRetryable: true, details: [{}] });
    expect(ActivityErrorTypes).toEqual({ stepFailed: 'step-failed', stepTimeout: 'step-timeout' });
  });
});

describe('describeError', () => {
  it('follows the cause chain', () => {
    const error = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9') });
    expect(describeError(error)).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:9');
  });

  it('describes an AggregateError without a message by its parts', () => {
    const error = new AggregateError([
      new Error('connect ECONNREFUSED ::1:9'),
      new Error('connect ECONNREFUSED 127.0.0.1:9'),
    ]);
    expect(describeError(error)).toBe('connect ECONNREFUSED ::1:9; connect ECONNREFUSED 127.0.0.1:9');
  });

  it('describes values that are not errors', () => {
    expect(describeError('plain string')).toBe('plain string');
  });
});

describe('parseActivityInput', () => {
  it('returns the parsed input and strips fields the activity does not use', () => {
    const input = { command: 'true', env: {}, workflowName: 'w', stepName: 's', type: 'shell', skip: false };
    expect(parseActivityInput(shellActivityInputSchema, input, 'runShell')).toEqual({
      command: 'true',
      env: {},
      workflowName: 'w',
      stepName: 's',
    });
  });

  it('throws step-failed listing every invalid field by path', () => {
    let thrown: unknown;
    try {
      parseActivityInput(
        shellActivityInputSchema,
        { command: 'true', env: { A: 1 }, stepName: 's' },
        'runShell',
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({ type: 'step-failed', nonRetryable: true });
    expect((thrown as Error).message).toMatch(/^invalid runShell input: env\.A: .*; workflowName: /);
  });
});

describe('lastChars', () => {
  it('keeps short texts and marks cut ones', () => {
    expect(lastChars('abc', 5)).toBe('abc');
    expect(lastChars('abcdef', 3)).toBe('…def');
  });
});
