/** What the CLI says when a call to Temporal fails for want of Temporal: one line, the cause named. */
import { diagnoseConnection } from '../connection/diagnose';
import type { connectionFailureOf } from '../connection/errors';

/** One line naming the cause, found by retracing the connection to `address`. */
export async function connectionFailureMessage(
  address: string,
  failure: NonNullable<ReturnType<typeof connectionFailureOf>>,
): Promise<string> {
  const { stage, cause } = await diagnoseConnection(address);
  if (stage !== 'answers') return `lost Temporal at ${address}: ${cause}`;
  if (failure === 'not-temporal') return `${address} does not answer as a Temporal frontend (wrong port?)`;
  return failure === 'deadline'
    ? `Temporal at ${address} did not answer in time`
    : `Temporal at ${address} is unavailable`;
}
