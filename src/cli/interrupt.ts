/**
 * Ctrl-C and SIGTERM for the commands that wait (`run`, `dev`). The first signal lets the command
 * end properly: `run` detaches from the pipeline, `run --embedded` cancels it and stops its
 * server, `dev` stops its worker and server. A second one exits at once (the dev server module's
 * exit hook still kills the server's process group).
 */
import { ExitCodes, type ExitCode } from './exit-codes';

/** The signals a waiting command handles. */
export type InterruptSignal = 'SIGINT' | 'SIGTERM';

const INTERRUPT_SIGNALS: readonly InterruptSignal[] = ['SIGINT', 'SIGTERM'];

/** The shell's convention, 128 + the signal number: 130 for SIGINT (Ctrl-C), 143 for SIGTERM. */
export function exitCodeForSignal(signal: InterruptSignal): ExitCode {
  return signal === 'SIGINT' ? ExitCodes.interrupted : ExitCodes.terminatedBySignal;
}

/** What {@link untilInterrupted} saw first. */
export type Interrupted<T> = { value: T } | { signal: InterruptSignal };

/** Listens for SIGINT and SIGTERM while a command waits; {@link Interruption.dispose} stops listening. */
export class Interruption {
  /** Resolves with the first signal. */
  readonly signalled: Promise<InterruptSignal>;
  private first: InterruptSignal | undefined;
  private readonly listener: (signal: NodeJS.Signals) => void;

  constructor(
    /** Told of a second signal, just before the process exits. */
    onRepeat: (signal: InterruptSignal) => void = () => undefined,
  ) {
    let resolveSignal!: (signal: InterruptSignal) => void;
    this.signalled = new Promise((resolve) => (resolveSignal = resolve));
    this.listener = (raw) => {
      const signal = raw as InterruptSignal;
      if (this.first === undefined) {
        this.first = signal;
        resolveSignal(signal);
        return;
      }
      onRepeat(signal);
      process.exit(exitCodeForSignal(signal));
    };
    for (const signal of INTERRUPT_SIGNALS) process.on(signal, this.listener);
  }

  /** The first signal received, if any. */
  get received(): InterruptSignal | undefined {
    return this.first;
  }

  /** Stops listening: the signals' default behaviour (exit) returns. */
  dispose(): void {
    for (const signal of INTERRUPT_SIGNALS) process.off(signal, this.listener);
  }

  /**
   * Waits for `work` unless a signal comes first. When one does, `work` is left to settle on its
   * own (its rejection, say from a connection being closed, is ignored).
   */
  async race<T>(work: Promise<T>): Promise<Interrupted<T>> {
    const outcome = await Promise.race([
      work.then((value) => ({ value })),
      this.signalled.then((signal) => ({ signal })),
    ]);
    if ('signal' in outcome) work.catch(() => undefined);
    return outcome;
  }
}

/** `work`'s value, or undefined when it takes longer than `ms` (or fails). */
export async function withinMs<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
