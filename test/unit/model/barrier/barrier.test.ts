import {
  abandon,
  abortBarrier,
  arrivalTimes,
  arrive,
  createBarrier,
  describeResolution,
  expire,
  missingParticipants,
  nextDeadline,
  OPERATOR,
  operatorBreak,
  operatorRelease,
  waitingParticipants,
  withdraw,
  type BarrierState,
  type Transition,
} from '../../../../src/model/barrier';

const T0 = 1_700_000_000_000;
const TIMEOUT = 600_000;

/** Applies steps in order, failing the test when one is unexpectedly rejected. */
function run(state: BarrierState, ...steps: ((s: BarrierState) => Transition<BarrierState>)[]): BarrierState {
  return steps.reduce((s, step) => {
    const t = step(s);
    expect(t.rejected).toBeUndefined();
    return t.state;
  }, state);
}

const abc = () => createBarrier('deploy', 'services-deployed', ['a', 'b', 'c']);

/** A state as its readers see it: arrival times and who waits, by name. */
function view(state: BarrierState) {
  return { ...state, arrivals: arrivalTimes(state), waiting: waitingParticipants(state) };
}

describe('createBarrier', () => {
  it('starts standing with nothing recorded', () => {
    expect(abc()).toEqual({
      stage: 'deploy',
      identifier: 'services-deployed',
      participants: ['a', 'b', 'c'],
      slotOf: { a: 0, b: 1, c: 2 },
      status: 'standing',
      arrivals: [],
      arrived: 0,
      withdrawn: [],
      pending: 3,
    });
  });

  it('drops duplicate participants, keeping plan order', () => {
    expect(createBarrier('s', 'x', ['b', 'a', 'b']).participants).toEqual(['b', 'a']);
  });

  it('refuses a barrier without participants', () => {
    expect(() => createBarrier('s', 'x', [])).toThrow(RangeError);
  });

  it('a single-participant barrier stands until its participant arrives, then crosses at once', () => {
    const solo = createBarrier('s', 'x', ['a']);
    expect(solo.status).toBe('standing');
    const t = arrive(solo, 'a', T0, TIMEOUT);
    expect(t.state.status).toBe('crossed');
    expect(t.outcomes).toEqual([
      {
        stage: 's',
        identifier: 'x',
        participant: 'a',
        kind: 'released',
        message: 'Barrier "x" in stage "s" crossed',
      },
    ]);
  });
});

describe('arrive', () => {
  it('records the arrival, its deadline, and waits', () => {
    const t = arrive(abc(), 'a', T0, TIMEOUT);
    expect(t.outcomes).toEqual([]);
    expect(t.rejected).toBeUndefined();
    expect(view(t.state)).toMatchObject({
      status: 'standing',
      arrivals: { a: T0 },
      waiting: ['a'],
      pending: 2,
      deadline: T0 + TIMEOUT,
    });
  });

  it('releases every waiting participant in the one transition of the last arrival', () => {
    const s = run(
      abc(),
      (s) => arrive(s, 'b', T0, TIMEOUT),
      (s) => arrive(s, 'a', T0 + 5, TIMEOUT),
    );
    const t = arrive(s, 'c', T0 + 10, TIMEOUT);
    expect(view(t.state)).toMatchObject({ status: 'crossed', resolvedAt: T0 + 10, waiting: [], pending: 0 });
    expect(t.state).not.toHaveProperty('deadline');
    expect(t.outcomes.map((o) => [o.participant, o.kind])).toEqual([
      ['b', 'released'],
      ['a', 'released'],
      ['c', 'released'],
    ]);
    expect(t.outcomes.every((o) => o.errorType === undefined)).toBe(true);
  });

  it('ignores an unknown participant: same state, no outcome, a reason', () => {
    const s = abc();
    const t = arrive(s, 'zed', T0, TIMEOUT);
    expect(t.state).toBe(s);
    expect(t.outcomes).toEqual([]);
    expect(t.rejected).toBe('zed is not a participant of barrier "services-deployed" in stage "deploy"');
  });

  it('ignores a duplicate arrival while waiting', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, TIMEOUT));
    const t = arrive(s, 'a', T0 + 1, TIMEOUT);
    expect(t.state).toBe(s);
    expect(t.outcomes).toEqual([]);
    expect(t.rejected).toMatch(/a already arrived/);
  });

  it('ignores a duplicate arrival after the participant was notified', () => {
    const s = run(
      createBarrier('s', 'x', ['a', 'b']),
      (s) => arrive(s, 'a', T0, TIMEOUT),
      (s) => arrive(s, 'b', T0, TIMEOUT),
    );
    const t = arrive(s, 'a', T0 + 1, TIMEOUT);
    expect(t.state).toBe(s);
    expect(t.outcomes).toEqual([]);
    expect(t.rejected).toMatch(/already arrived/);
  });

  it('catches up with the clock even when the input itself is rejected', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, 100));
    const t = arrive(s, 'a', T0 + 100, TIMEOUT); // duplicate, handled before the due timer fired
    expect(t.rejected).toMatch(/already arrived/);
    expect(t.state.status).toBe('timed-out');
    expect(t.outcomes).toEqual([expect.objectContaining({ participant: 'a', kind: 'timed-out' })]);
  });

  it('rejects a non-finite time or a negative timeout without changing anything', () => {
    const s = abc();
    expect(arrive(s, 'a', Number.NaN, TIMEOUT)).toEqual({
      state: s,
      outcomes: [],
      rejected: expect.any(String),
    });
    expect(arrive(s, 'a', T0, -1)).toEqual({ state: s, outcomes: [], rejected: expect.any(String) });
    expect(arrive(s, 'a', T0, Number.POSITIVE_INFINITY).state).toBe(s);
  });

  it('handles participant names that are Object.prototype members', () => {
    const s = createBarrier('s', 'x', ['constructor', 'toString']);
    const t1 = arrive(s, 'constructor', T0, TIMEOUT);
    expect(t1.rejected).toBeUndefined();
    expect(waitingParticipants(t1.state)).toEqual(['constructor']);
    const t2 = arrive(t1.state, 'toString', T0, TIMEOUT);
    expect(t2.state.status).toBe('crossed');
    expect(t2.outcomes).toHaveLength(2);
  });

  it('a withdrawn participant that arrives anyway waits, and is released with its peers', () => {
    const s = run(abc(), (s) => withdraw(s, 'a', T0));
    const t = arrive(s, 'a', T0 + 1, TIMEOUT);
    expect(t.rejected).toBeUndefined();
    expect(waitingParticipants(t.state)).toEqual(['a']);
    const done = run(t.state, (s) => arrive(s, 'b', T0 + 2, TIMEOUT));
    const last = arrive(done, 'c', T0 + 3, TIMEOUT);
    expect(last.outcomes.map((o) => o.participant)).toEqual(['a', 'b', 'c']);
  });

  it('a withdrawn participant arriving at a crossed barrier is released at once', () => {
    const s = run(
      createBarrier('s', 'x', ['a', 'b']),
      (s) => withdraw(s, 'a', T0),
      (s) => arrive(s, 'b', T0 + 1, TIMEOUT),
    );
    expect(s.status).toBe('crossed');
    const t = arrive(s, 'a', T0 + 2, TIMEOUT);
    expect(t.rejected).toBeUndefined();
    expect(t.outcomes).toEqual([expect.objectContaining({ participant: 'a', kind: 'released' })]);
    expect(view(t.state)).toMatchObject({
      status: 'crossed',
      resolvedAt: T0 + 1,
      arrivals: { a: T0 + 2, b: T0 + 1 },
    });
    // ... and only once.
    expect(arrive(t.state, 'a', T0 + 3, TIMEOUT)).toMatchObject({
      outcomes: [],
      rejected: expect.any(String),
    });
  });

  it('finds the barrier timed out when it arrives at or after a peer deadline', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, 100));
    const t = arrive(s, 'b', T0 + 100, TIMEOUT);
    expect(t.state.status).toBe('timed-out');
    expect(t.state.missing).toEqual(['b', 'c']);
    expect(t.outcomes.map((o) => [o.participant, o.errorType])).toEqual([
      ['a', 'barrier-timeout'],
      ['b', 'barrier-timeout'],
    ]);
  });
});

describe('withdraw', () => {
  it('counts as arrived and can cross the barrier, releasing the waiting ones', () => {
    const s = run(
      abc(),
      (s) => arrive(s, 'a', T0, TIMEOUT),
      (s) => withdraw(s, 'b', T0 + 1),
    );
    expect(view(s)).toMatchObject({ status: 'standing', withdrawn: ['b'], arrivals: { a: T0 } });
    const t = withdraw(s, 'c', T0 + 2);
    expect(view(t.state)).toMatchObject({ status: 'crossed', resolvedAt: T0 + 2, withdrawn: ['b', 'c'] });
    expect(t.outcomes).toEqual([expect.objectContaining({ participant: 'a', kind: 'released' })]);
  });

  it('crosses with no outcomes when every participant withdrew', () => {
    const s = run(createBarrier('s', 'x', ['a', 'b']), (s) => withdraw(s, 'a', T0));
    const t = withdraw(s, 'b', T0);
    expect(t.state.status).toBe('crossed');
    expect(t.outcomes).toEqual([]);
  });

  it('ignores duplicates, unknown participants, withdrawals after arriving, and final barriers', () => {
    const withdrawn = run(abc(), (s) => withdraw(s, 'a', T0));
    expect(withdraw(withdrawn, 'a', T0)).toEqual({
      state: withdrawn,
      outcomes: [],
      rejected: expect.stringMatching(/already withdrew/),
    });
    expect(withdraw(withdrawn, 'zed', T0)).toEqual({
      state: withdrawn,
      outcomes: [],
      rejected: expect.any(String),
    });

    const arrived = run(abc(), (s) => arrive(s, 'a', T0, TIMEOUT));
    expect(withdraw(arrived, 'a', T0)).toEqual({
      state: arrived,
      outcomes: [],
      rejected: expect.stringMatching(/already arrived/),
    });

    const broken = run(abc(), (s) => abandon(s, 'c', 'boom', T0));
    expect(withdraw(broken, 'a', T0)).toEqual({
      state: broken,
      outcomes: [],
      rejected: expect.stringMatching(/already broken/),
    });
  });
});

describe('abandon', () => {
  it('breaks the barrier; every waiting participant learns who broke it and why', () => {
    const s = run(
      abc(),
      (s) => arrive(s, 'a', T0, TIMEOUT),
      (s) => arrive(s, 'b', T0 + 1, TIMEOUT),
    );
    const t = abandon(s, 'c', 'step deploy failed', T0 + 2);
    expect(view(t.state)).toMatchObject({
      status: 'broken',
      resolvedAt: T0 + 2,
      reason: 'step deploy failed',
      brokenBy: 'c',
      waiting: [],
    });
    expect(t.state).not.toHaveProperty('deadline');
    const message = 'Barrier "services-deployed" in stage "deploy" broken by c: step deploy failed';
    expect(t.outcomes).toEqual([
      {
        stage: 'deploy',
        identifier: 'services-deployed',
        participant: 'a',
        kind: 'broken',
        errorType: 'barrier-broken',
        message,
      },
      {
        stage: 'deploy',
        identifier: 'services-deployed',
        participant: 'b',
        kind: 'broken',
        errorType: 'barrier-broken',
        message,
      },
    ]);
  });

  it('a later arrival at a broken barrier gets the same failure at once', () => {
    const s = run(abc(), (s) => abandon(s, 'c', 'step deploy failed', T0));
    const t = arrive(s, 'a', T0 + 50, TIMEOUT);
    expect(t.rejected).toBeUndefined();
    expect(t.outcomes).toEqual([
      expect.objectContaining({
        participant: 'a',
        kind: 'broken',
        errorType: 'barrier-broken',
        message: 'Barrier "services-deployed" in stage "deploy" broken by c: step deploy failed',
      }),
    ]);
    expect(view(t.state)).toMatchObject({
      status: 'broken',
      resolvedAt: T0,
      arrivals: { a: T0 + 50 },
      waiting: [],
    });
  });

  it('a participant that abandons while waiting breaks the barrier and gets its own outcome too', () => {
    const s = run(
      abc(),
      (s) => arrive(s, 'a', T0, TIMEOUT),
      (s) => arrive(s, 'b', T0, TIMEOUT),
    );
    const t = abandon(s, 'a', 'cancelled', T0 + 1);
    expect(view(t.state)).toMatchObject({ status: 'broken', brokenBy: 'a', reason: 'cancelled' });
    expect(t.outcomes.map((o) => o.participant)).toEqual(['a', 'b']);
  });

  it('has no effect after crossing ("failing after crossing affects only later barriers")', () => {
    const crossed = run(
      createBarrier('s', 'x', ['a', 'b']),
      (s) => arrive(s, 'a', T0, TIMEOUT),
      (s) => arrive(s, 'b', T0, TIMEOUT),
    );
    const t = abandon(crossed, 'a', 'later step failed', T0 + 1);
    expect(t).toEqual({ state: crossed, outcomes: [], rejected: expect.stringMatching(/already crossed/) });
  });

  it('has no effect from a participant that withdrew, or an unknown one', () => {
    const s = run(abc(), (s) => withdraw(s, 'a', T0));
    expect(abandon(s, 'a', 'boom', T0)).toEqual({
      state: s,
      outcomes: [],
      rejected: expect.stringMatching(/withdrew/),
    });
    expect(abandon(s, 'zed', 'boom', T0)).toEqual({ state: s, outcomes: [], rejected: expect.any(String) });
  });
});

describe('expire', () => {
  const waitingAB = () =>
    run(
      abc(),
      (s) => arrive(s, 'a', T0, 1_000),
      (s) => arrive(s, 'b', T0 + 100, 500), // b's own deadline, T0 + 600, comes first
    );

  it('does nothing before the earliest deadline', () => {
    const s = waitingAB();
    expect(expire(s, T0 + 599)).toEqual({ state: s, outcomes: [] });
  });

  it('times out exactly at the deadline, naming the missing participants', () => {
    const t = expire(waitingAB(), T0 + 600);
    expect(view(t.state)).toMatchObject({
      status: 'timed-out',
      resolvedAt: T0 + 600,
      missing: ['c'],
      reason: 'timed out waiting for c',
      waiting: [],
    });
    expect(t.state).not.toHaveProperty('deadline');
    const message = 'Barrier "services-deployed" in stage "deploy" timed out waiting for c';
    expect(t.outcomes).toEqual([
      expect.objectContaining({ participant: 'a', kind: 'timed-out', errorType: 'barrier-timeout', message }),
      expect.objectContaining({ participant: 'b', kind: 'timed-out', errorType: 'barrier-timeout', message }),
    ]);
  });

  it('does not count withdrawn participants as missing', () => {
    const s = run(
      abc(),
      (s) => withdraw(s, 'b', T0),
      (s) => arrive(s, 'a', T0, 10),
    );
    expect(expire(s, T0 + 10).state.missing).toEqual(['c']);
  });

  it('a late arrival after a timeout gets barrier-timeout at once', () => {
    const timedOut = expire(waitingAB(), T0 + 600).state;
    const t = arrive(timedOut, 'c', T0 + 700, TIMEOUT);
    expect(t.outcomes).toEqual([
      expect.objectContaining({ participant: 'c', kind: 'timed-out', errorType: 'barrier-timeout' }),
    ]);
    expect(view(t.state)).toMatchObject({ status: 'timed-out', resolvedAt: T0 + 600, missing: ['c'] });
  });

  it('does nothing with no one waiting, or on a final barrier', () => {
    const s = abc();
    expect(expire(s, T0 + 10 ** 9)).toEqual({ state: s, outcomes: [] });
    const timedOut = expire(waitingAB(), T0 + 600).state;
    expect(expire(timedOut, T0 + 10 ** 9)).toEqual({ state: timedOut, outcomes: [] });
  });
});

describe('nextDeadline', () => {
  it('is the earliest deadline of a waiting participant while standing, undefined otherwise', () => {
    let s = abc();
    expect(nextDeadline(s)).toBeUndefined();
    s = run(s, (s) => arrive(s, 'a', T0, 1_000));
    expect(nextDeadline(s)).toBe(T0 + 1_000);
    s = run(s, (s) => arrive(s, 'b', T0 + 100, 500));
    expect(nextDeadline(s)).toBe(T0 + 600);
    s = run(s, (s) => arrive(s, 'c', T0 + 200, 10));
    expect(s.status).toBe('crossed');
    expect(nextDeadline(s)).toBeUndefined();
  });
});

describe('operator commands', () => {
  it('release forces the barrier: waiting and later arrivals pass', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, TIMEOUT));
    const t = operatorRelease(s, 'hotfix', T0 + 1);
    expect(view(t.state)).toMatchObject({
      status: 'forced',
      resolvedAt: T0 + 1,
      reason: 'hotfix',
      waiting: [],
    });
    expect(t.outcomes).toEqual([
      expect.objectContaining({
        participant: 'a',
        kind: 'released',
        message: 'Barrier "services-deployed" in stage "deploy" released by operator: hotfix',
      }),
    ]);
    expect(arrive(t.state, 'b', T0 + 2, TIMEOUT).outcomes).toEqual([
      expect.objectContaining({ participant: 'b', kind: 'released' }),
    ]);
  });

  it('break breaks the barrier with the operator named and their reason', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, TIMEOUT));
    const t = operatorBreak(s, 'bad canary', T0 + 1);
    expect(view(t.state)).toMatchObject({ status: 'broken', reason: 'bad canary', brokenBy: OPERATOR });
    expect(t.outcomes).toEqual([
      expect.objectContaining({
        participant: 'a',
        errorType: 'barrier-broken',
        message: 'Barrier "services-deployed" in stage "deploy" broken by operator: bad canary',
      }),
    ]);
  });

  it('an empty reason leaves no dangling colon', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, TIMEOUT));
    expect(operatorRelease(s, '', T0).outcomes[0]?.message).toBe(
      'Barrier "services-deployed" in stage "deploy" released by operator',
    );
  });

  it.each([
    ['release', operatorRelease],
    ['break', operatorBreak],
    ['abort', abortBarrier],
  ])('%s on a final barrier is rejected and changes nothing', (command, op) => {
    const crossed = run(createBarrier('s', 'x', ['a']), (s) => arrive(s, 'a', T0, TIMEOUT));
    expect(op(crossed, 'why', T0 + 1)).toEqual({
      state: crossed,
      outcomes: [],
      rejected: `cannot ${command} barrier "x" in stage "s": it is already crossed`,
    });
  });

  it('a command arriving after a missed deadline finds the barrier timed out, and still delivers the timeouts', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, 100));
    const t = operatorRelease(s, 'hotfix', T0 + 100);
    expect(t.state.status).toBe('timed-out');
    expect(t.outcomes).toEqual([expect.objectContaining({ participant: 'a', kind: 'timed-out' })]);
    expect(t.rejected).toMatch(/already timed-out/);
  });
});

describe('abortBarrier', () => {
  it('breaks with the given reason and nobody named', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, TIMEOUT));
    const t = abortBarrier(s, 'pipeline aborted', T0 + 1);
    expect(view(t.state)).toMatchObject({ status: 'broken', reason: 'pipeline aborted' });
    expect(t.state.brokenBy).toBeUndefined();
    expect(t.outcomes[0]?.message).toBe(
      'Barrier "services-deployed" in stage "deploy" broken: pipeline aborted',
    );
  });
});

describe('describeResolution', () => {
  it('names the participant that broke the barrier; shows operator and abort reasons as given', () => {
    expect(describeResolution(abc())).toBeUndefined();
    expect(describeResolution(abandon(abc(), 'c', 'step deploy failed', T0).state)).toBe(
      'c: step deploy failed',
    );
    expect(describeResolution(operatorBreak(abc(), 'bad canary', T0).state)).toBe('bad canary');
    expect(describeResolution(operatorRelease(abc(), 'hotfix', T0).state)).toBe('hotfix');
    expect(describeResolution(abortBarrier(abc(), 'pipeline aborted', T0).state)).toBe('pipeline aborted');
  });
});

describe('missingParticipants', () => {
  it('lists those neither arrived nor withdrawn, in plan order', () => {
    const s = run(
      abc(),
      (s) => arrive(s, 'b', T0, TIMEOUT),
      (s) => withdraw(s, 'c', T0),
    );
    expect(missingParticipants(s)).toEqual(['a']);
  });
});

describe('purity', () => {
  it('never mutates its input, and a state survives a JSON round trip', () => {
    const s = run(abc(), (s) => arrive(s, 'a', T0, 100));
    const frozen = deepFreeze(structuredClone(s));
    const before = JSON.stringify(frozen);
    arrive(frozen, 'b', T0 + 1, TIMEOUT);
    withdraw(frozen, 'b', T0 + 1);
    abandon(frozen, 'c', 'x', T0 + 1);
    operatorRelease(frozen, 'x', T0 + 1);
    operatorBreak(frozen, 'x', T0 + 1);
    expire(frozen, T0 + 100);
    expect(JSON.stringify(frozen)).toBe(before);

    const final = expire(s, T0 + 100).state;
    expect(JSON.parse(JSON.stringify(final))).toStrictEqual(final);
  });
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
