/** Step activities report Temporal's attempt number from the second attempt on. */
import { ApplicationFailure } from '@temporalio/common';
import { withAttemptReport } from '../../../src/activities/attempt-report';
import { stepFailed } from '../../../src/activities/errors';
import type { ShellActivityResult } from '../../../src/model/step-activities';
import { expectApplicationFailure, newActivityEnvironment, runActivity } from './helpers';

const succeeds = async (): Promise<ShellActivityResult> => ({
  exitCode: 0,
  stdoutTail: 'ok\n',
  stderrTail: '',
});
const fails = async (): Promise<ShellActivityResult> => {
  throw stepFailed('shell step "deploy" failed with exit code 3', {
    exitCode: 3,
    stdoutTail: '',
    stderrTail: 'boom\n',
  });
};

describe('withAttemptReport', () => {
  it('leaves a first attempt’s result and failure as they are', async () => {
    const { env } = newActivityEnvironment({ attempt: 1 });
    expect(await runActivity(env, withAttemptReport(succeeds), undefined)).toEqual({
      exitCode: 0,
      stdoutTail: 'ok\n',
      stderrTail: '',
    });
    const failure = await expectApplicationFailure(runActivity(env, withAttemptReport(fails), undefined));
    expect(failure.details).toEqual([{ exitCode: 3, stdoutTail: '', stderrTail: 'boom\n' }]);
  });

  it('adds the attempt number to a later attempt’s result', async () => {
    const { env } = newActivityEnvironment({ attempt: 3 });
    expect(await runActivity(env, withAttemptReport(succeeds), undefined)).toEqual({
      exitCode: 0,
      stdoutTail: 'ok\n',
      stderrTail: '',
      attempt: 3,
    });
  });

  it('adds it to a later attempt’s failure details, keeping type, message and retryability', async () => {
    const { env } = newActivityEnvironment({ attempt: 2 });
    const failure = await expectApplicationFailure(runActivity(env, withAttemptReport(fails), undefined));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('step-failed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('shell step "deploy" failed with exit code 3');
    expect(failure.details).toEqual([{ exitCode: 3, stdoutTail: '', stderrTail: 'boom\n', attempt: 2 }]);
  });
});
