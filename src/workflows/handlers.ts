/**
 * Signal handlers that accept only a well-formed payload: a malformed one is logged and dropped
 * before any workflow state is touched. Both workflows register their signals through this.
 */
import { log, setHandler, type SignalDefinition } from '@temporalio/workflow';
import type { z } from 'zod';
import { parsePayload } from '../model/protocol';

/** Registers `handle` for `signal`, called only with payloads that `schema` accepts. */
export function onValidSignal<T>(
  signal: SignalDefinition<[T]>,
  schema: z.ZodType<T>,
  handle: (payload: T) => void,
): void {
  setHandler(signal, (payload: unknown) => {
    const parsed = parsePayload(schema, payload);
    if (!parsed.ok) {
      log.warn(`rejected a malformed ${signal.name} signal`, { reason: parsed.reason });
      return;
    }
    handle(parsed.value);
  });
}
