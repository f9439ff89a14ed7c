/**
 * Periodic heartbeats for long-running steps. Temporal only delivers a cancellation to an activity
 * that heartbeats, and a worker that died is only noticed through a missed heartbeat, so every
 * step executor heartbeats while it waits.
 */
import { Context } from '@temporalio/activity';

/**
 * Heartbeats every `intervalMs` with `details()` (cheap progress information such as elapsed time
 * and bytes seen, visible in the Temporal UI). Returns the function that stops it.
 * Must be called inside an activity.
 */
export function startHeartbeats(intervalMs: number, details: () => unknown): () => void {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(details()), intervalMs);
  return () => clearInterval(timer);
}
