import { barrierResultSchema } from '../../../../src/model/result';
import { Book, waitingParticipants, type BarrierBook, type Transition } from '../../../../src/model/barrier';

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const TIMEOUT = 600_000;

const deployed = { stage: 'deploy', identifier: 'deployed' };
const verified = { stage: 'deploy', identifier: 'verified' };
const smoke = { stage: 'test', identifier: 'deployed' }; // same identifier, another stage: independent

/** deploy: a, b, c meet at `deployed`, then a and b at `verified`; test: x and y meet at `deployed`. */
const newBook = (): BarrierBook =>
  Book.createBook([
    { ...deployed, participants: ['a', 'b', 'c'] },
    { ...verified, participants: ['a', 'b'] },
    { ...smoke, participants: ['x', 'y'] },
  ]);

function run(book: BarrierBook, ...steps: ((b: BarrierBook) => Transition<BarrierBook>)[]): BarrierBook {
  return steps.reduce((b, step) => step(b).state, book);
}

const statusOf = (book: BarrierBook, key: { stage: string; identifier: string }) =>
  Book.getBarrier(book, key)?.status;

describe('createBook', () => {
  it('keeps barriers in the given order, all standing', () => {
    const book = newBook();
    expect(Book.listBarriers(book).map((b) => [b.stage, b.identifier, b.status])).toEqual([
      ['deploy', 'deployed', 'standing'],
      ['deploy', 'verified', 'standing'],
      ['test', 'deployed', 'standing'],
    ]);
  });

  it('refuses a barrier defined twice in a stage', () => {
    expect(() =>
      Book.createBook([
        { ...deployed, participants: ['a'] },
        { ...deployed, participants: ['b'] },
      ]),
    ).toThrow(RangeError);
  });

  it('keys cannot collide whatever the spelling of stage and identifier', () => {
    expect(Book.keyOf({ stage: 'a/b', identifier: 'c' })).not.toBe(
      Book.keyOf({ stage: 'a', identifier: 'b/c' }),
    );
  });

  it('builds every barrier of a plan, stage by stage', () => {
    const book = Book.createBookFromPlan({
      stages: [
        { name: 'deploy', barriers: [{ identifier: 'deployed', participants: ['a', 'b'] }] },
        { name: 'test', barriers: [{ identifier: 'deployed', participants: ['x'] }] },
      ],
    });
    expect(Book.listBarriers(book).map((b) => [b.stage, b.identifier, b.participants])).toEqual([
      ['deploy', 'deployed', ['a', 'b']],
      ['test', 'deployed', ['x']],
    ]);
  });
});

describe('operations addressed by key', () => {
  it('apply to that barrier only', () => {
    const book = newBook();
    const t = Book.arrive(book, deployed, 'a', T0, TIMEOUT);
    expect(t.rejected).toBeUndefined();
    expect(waitingParticipants(Book.getBarrier(t.state, deployed)!)).toEqual(['a']);
    expect(Book.getBarrier(t.state, verified)).toBe(Book.getBarrier(book, verified));
    expect(Book.getBarrier(t.state, smoke)).toBe(Book.getBarrier(book, smoke));
    expect(waitingParticipants(Book.getBarrier(book, deployed)!)).toEqual([]); // input untouched
  });

  it('cross a barrier and return every release at once', () => {
    const book = run(
      newBook(),
      (b) => Book.arrive(b, deployed, 'a', T0, TIMEOUT),
      (b) => Book.withdraw(b, deployed, 'b', T0 + 1),
    );
    const t = Book.arrive(book, deployed, 'c', T0 + 2, TIMEOUT);
    expect(t.outcomes.map((o) => [o.participant, o.kind])).toEqual([
      ['a', 'released'],
      ['c', 'released'],
    ]);
  });

  it('reject an unknown key, returning the same book, and still answer the arrival', () => {
    const book = newBook();
    const t = Book.arrive(book, { stage: 'deploy', identifier: 'nope' }, 'a', T0, TIMEOUT);
    expect(t).toEqual({
      state: book,
      outcomes: [
        {
          stage: 'deploy',
          identifier: 'nope',
          participant: 'a',
          kind: 'broken',
          errorType: 'barrier-broken',
          message: 'barrier nope is not a barrier of stage deploy',
        },
      ],
      rejected: 'no barrier "nope" in stage "deploy"',
    });
  });

  it('pass on the rejection of the barrier, returning the same book', () => {
    const book = newBook();
    expect(Book.arrive(book, deployed, 'zed', T0, TIMEOUT)).toEqual({
      state: book,
      outcomes: [],
      rejected: expect.stringMatching(/not a participant/),
    });
  });

  it('cover abandon and the operator commands', () => {
    let book = newBook();
    book = Book.abandon(book, deployed, 'c', 'boom', T0).state;
    expect(statusOf(book, deployed)).toBe('broken');
    book = Book.operatorRelease(book, verified, 'hotfix', T0).state;
    expect(statusOf(book, verified)).toBe('forced');
    book = Book.operatorBreak(book, smoke, 'no', T0).state;
    expect(statusOf(book, smoke)).toBe('broken');
    expect(Book.operatorBreak(book, smoke, 'again', T0)).toMatchObject({
      state: book,
      rejected: expect.any(String),
    });
  });
});

describe('abandonAll', () => {
  it('breaks every standing barrier of the stage the participant has not crossed, and nothing elsewhere', () => {
    const book = run(
      newBook(),
      (b) => Book.arrive(b, deployed, 'b', T0, TIMEOUT),
      (b) => Book.arrive(b, verified, 'b', T0, TIMEOUT),
    );
    const t = Book.abandonAll(book, 'deploy', 'a', 'step deploy failed', T0 + 1);
    expect(statusOf(t.state, deployed)).toBe('broken');
    expect(statusOf(t.state, verified)).toBe('broken');
    expect(statusOf(t.state, smoke)).toBe('standing');
    expect(t.outcomes.map((o) => [o.identifier, o.participant, o.errorType])).toEqual([
      ['deployed', 'b', 'barrier-broken'],
      ['verified', 'b', 'barrier-broken'],
    ]);
    expect(t.outcomes[0]?.message).toBe(
      'Barrier "deployed" in stage "deploy" broken by a: step deploy failed',
    );
    expect(t.rejected).toBeUndefined();
  });

  it('leaves a barrier the participant already crossed as it is', () => {
    const book = run(
      newBook(),
      (b) => Book.arrive(b, deployed, 'a', T0, TIMEOUT),
      (b) => Book.arrive(b, deployed, 'b', T0, TIMEOUT),
      (b) => Book.arrive(b, deployed, 'c', T0, TIMEOUT),
    );
    const t = Book.abandonAll(book, 'deploy', 'a', 'verify failed', T0 + 1);
    expect(statusOf(t.state, deployed)).toBe('crossed');
    expect(statusOf(t.state, verified)).toBe('broken');
    expect(t.outcomes).toEqual([]);
  });

  it('breaks the barrier the participant is waiting at (cancelled while waiting)', () => {
    const book = Book.arrive(newBook(), deployed, 'a', T0, TIMEOUT).state;
    const t = Book.abandonAll(book, 'deploy', 'a', 'cancelled', T0 + 1);
    expect(statusOf(t.state, deployed)).toBe('broken');
    expect(t.outcomes.map((o) => o.participant)).toEqual(['a']);
  });

  it('leaves a barrier the participant withdrew from', () => {
    const book = Book.withdraw(newBook(), verified, 'a', T0).state;
    const t = Book.abandonAll(book, 'deploy', 'a', 'boom', T0 + 1);
    expect(statusOf(t.state, verified)).toBe('standing');
    expect(statusOf(t.state, deployed)).toBe('broken');
  });

  it('returns the same book when nothing applies', () => {
    const book = newBook();
    expect(Book.abandonAll(book, 'deploy', 'nobody', 'boom', T0)).toEqual({ state: book, outcomes: [] });
  });
});

describe('withdrawAll', () => {
  it('counts the participant as arrived at every remaining barrier of its stage, crossing those it completes', () => {
    const book = run(
      newBook(),
      (b) => Book.arrive(b, deployed, 'a', T0, TIMEOUT),
      (b) => Book.arrive(b, deployed, 'b', T0, TIMEOUT),
      (b) => Book.arrive(b, verified, 'a', T0, TIMEOUT),
    );
    const t = Book.withdrawAll(book, 'deploy', 'b', T0 + 1);
    // b already arrived at `deployed`: nothing changes there. `verified` now has everyone.
    expect(statusOf(t.state, deployed)).toBe('standing');
    expect(Book.getBarrier(t.state, deployed)?.withdrawn).toEqual([]);
    expect(statusOf(t.state, verified)).toBe('crossed');
    expect(t.outcomes.map((o) => [o.identifier, o.participant, o.kind])).toEqual([
      ['verified', 'a', 'released'],
    ]);
    expect(statusOf(t.state, smoke)).toBe('standing');
  });
});

describe('expireAll and nextDeadline', () => {
  it('one timer for the earliest deadline across barriers; firing it times out only what is due', () => {
    const book = run(
      newBook(),
      (b) => Book.arrive(b, deployed, 'a', T0, 1_000),
      (b) => Book.arrive(b, smoke, 'x', T0, 300),
      (b) => Book.arrive(b, verified, 'b', T0, 300),
    );
    expect(Book.nextDeadline(book)).toBe(T0 + 300);
    expect(Book.expireAll(book, T0 + 299)).toEqual({ state: book, outcomes: [] });

    const t = Book.expireAll(book, T0 + 300);
    expect(statusOf(t.state, smoke)).toBe('timed-out');
    expect(statusOf(t.state, verified)).toBe('timed-out');
    expect(statusOf(t.state, deployed)).toBe('standing');
    expect(t.outcomes.map((o) => [o.identifier, o.participant, o.errorType])).toEqual([
      ['verified', 'b', 'barrier-timeout'],
      ['deployed', 'x', 'barrier-timeout'],
    ]);
    expect(Book.nextDeadline(t.state)).toBe(T0 + 1_000);
  });

  it('has no deadline when nobody waits', () => {
    expect(Book.nextDeadline(newBook())).toBeUndefined();
  });
});

describe('breakAllStanding', () => {
  it('breaks every standing barrier with the abort reason and leaves final ones alone', () => {
    const book = run(
      newBook(),
      (b) => Book.operatorRelease(b, verified, 'hotfix', T0),
      (b) => Book.arrive(b, deployed, 'a', T0, TIMEOUT),
    );
    const t = Book.breakAllStanding(book, 'pipeline aborted', T0 + 1);
    expect(Book.listBarriers(t.state).map((b) => [b.identifier, b.status, b.reason])).toEqual([
      ['deployed', 'broken', 'pipeline aborted'],
      ['verified', 'forced', 'hotfix'],
      ['deployed', 'broken', 'pipeline aborted'],
    ]);
    expect(t.outcomes).toEqual([
      expect.objectContaining({
        participant: 'a',
        errorType: 'barrier-broken',
        message: 'Barrier "deployed" in stage "deploy" broken: pipeline aborted',
      }),
    ]);
  });
});

describe('toBarrierResults', () => {
  it('renders the result document barriers with ISO-8601 ms timestamps, omitting what is not set', () => {
    const book = run(
      newBook(),
      (b) => Book.arrive(b, deployed, 'a', T0, TIMEOUT),
      (b) => Book.withdraw(b, deployed, 'b', T0 + 1),
      (b) => Book.abandon(b, deployed, 'c', 'step deploy failed', T0 + 2),
      (b) => Book.arrive(b, verified, 'b', T0 + 3, 10),
      (b) => Book.expireAll(b, T0 + 13),
    );
    const results = Book.toBarrierResults(book);
    expect(results).toStrictEqual([
      {
        stage: 'deploy',
        identifier: 'deployed',
        participants: ['a', 'b', 'c'],
        status: 'broken',
        arrivals: { a: '2025-01-02T03:04:05.678Z' },
        resolvedAt: '2025-01-02T03:04:05.680Z',
        reason: 'c: step deploy failed',
      },
      {
        stage: 'deploy',
        identifier: 'verified',
        participants: ['a', 'b'],
        status: 'timed-out',
        arrivals: { b: '2025-01-02T03:04:05.681Z' },
        resolvedAt: '2025-01-02T03:04:05.691Z',
        reason: 'timed out waiting for a',
      },
      { stage: 'test', identifier: 'deployed', participants: ['x', 'y'], status: 'standing', arrivals: {} },
    ]);
    for (const r of results) expect(barrierResultSchema.parse(r)).toStrictEqual(r);
  });

  it('gives a standing barrier with someone waiting its deadline: the earliest arrival plus timeout', () => {
    const book = run(
      newBook(),
      (b) => Book.arrive(b, deployed, 'b', T0 + 5, 60_000),
      (b) => Book.arrive(b, deployed, 'a', T0, TIMEOUT),
    );
    const [standing] = Book.toBarrierResults(book);
    expect(standing).toMatchObject({ status: 'standing', deadline: '2025-01-02T03:05:05.683Z' });
    const [crossed] = Book.toBarrierResults(run(book, (b) => Book.arrive(b, deployed, 'c', T0 + 9, TIMEOUT)));
    expect(crossed).not.toHaveProperty('deadline');
  });

  it('is a copy: changing the results does not touch the book', () => {
    const book = newBook();
    const [first] = Book.toBarrierResults(book);
    first?.participants.push('intruder');
    expect(Book.getBarrier(book, deployed)?.participants).toEqual(['a', 'b', 'c']);
  });
});
