/**
 * `convoy doctor`'s timer probe: sleeps `ms` a few times so that the doctor can read, from the
 * history's TimerStarted and TimerFired event times, how late the server fires short timers
 * (Temporal's `history.timerProcessorMaxTimeShift` defaults to 1 s). Runs only on the doctor's
 * private task queue; no pipeline ever starts it.
 */
import { sleep } from '@temporalio/workflow';

/** Sleeps `ms`, `times` times in a row. */
export async function convoyTimerProbe(ms: number, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await sleep(ms);
}
