/** Where Convoy finds Temporal: the environment variables of SPEC section 5, with their defaults. */
export interface TemporalConfig {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Reads `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE` and `TEMPORAL_TASK_QUEUE`. */
export function temporalConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  return {
    address: env.TEMPORAL_ADDRESS || 'localhost:7233',
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE || 'convoy',
  };
}
