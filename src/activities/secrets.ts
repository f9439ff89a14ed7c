/**
 * Reading a step's secrets on the worker, inside its activity: the only place their values exist
 * (SPEC section 1, "Secrets"). A value comes from the worker's environment or from a file (a
 * Kubernetes Secret mounted as a volume); a missing one fails the step with a message naming the
 * secret and where it was looked for, never a value.
 */
import { readFile } from 'node:fs/promises';
import { describeSecretSource, type StepSecrets } from '../model/secrets';
import { describeError, stepFailed } from './errors';
import { SecretMask } from './secret-mask';

/** A step's secret values by name, and the mask for everything the step reports. */
export interface ResolvedSecrets {
  values: ReadonlyMap<string, string>;
  mask: SecretMask;
}

/** Raised when a secret cannot be read; the message names the secret and its source. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
}

/** Where values are read from; tests pass their own environment. */
export interface SecretReaders {
  env: NodeJS.ProcessEnv;
  readFile(path: string): Promise<string>;
}

const workerReaders: SecretReaders = {
  env: process.env,
  readFile: (path) => readFile(path, 'utf8'),
};

/**
 * Reads every secret the step uses. A file's one trailing line break is dropped (`echo x > file`
 * writes one; `kubectl create secret` does not); an empty value is refused, since it is never
 * what a step means and could not be masked.
 * @throws {SecretUnavailableError} for the first secret that cannot be read
 */
export async function resolveSecrets(
  secrets: StepSecrets | undefined,
  readers: SecretReaders = workerReaders,
): Promise<ResolvedSecrets> {
  const values = new Map<string, string>();
  for (const [name, source] of Object.entries(secrets ?? {})) {
    const where = `secret ${name} (${describeSecretSource(source)})`;
    let value: string | undefined;
    if ('env' in source) {
      value = readers.env[source.env];
      if (value === undefined) throw new SecretUnavailableError(`${where} is not set on this worker`);
    } else {
      try {
        value = (await readers.readFile(source.file)).replace(/\r?\n$/, '');
      } catch (error) {
        throw new SecretUnavailableError(`${where} cannot be read on this worker: ${describeError(error)}`, {
          cause: error,
        });
      }
    }
    if (value === '') throw new SecretUnavailableError(`${where} is empty on this worker`);
    values.set(name, value);
  }
  return { values, mask: new SecretMask(values.values()) };
}

/**
 * Runs a step's body with its secrets read, and masks them in everything it returns or throws.
 * A secret that cannot be read fails the step (`step-failed`, with `notStartedDetails`) before
 * the body runs.
 */
export async function withStepSecrets<T>(
  secrets: StepSecrets | undefined,
  stepLabel: string,
  notStartedDetails: object,
  body: (resolved: ResolvedSecrets) => Promise<T>,
): Promise<T> {
  let resolved: ResolvedSecrets;
  try {
    resolved = await resolveSecrets(secrets);
  } catch (error) {
    if (error instanceof SecretUnavailableError)
      throw stepFailed(`${stepLabel}: ${error.message}`, notStartedDetails);
    throw error;
  }
  try {
    return resolved.mask.deep(await body(resolved));
  } catch (error) {
    throw resolved.mask.error(error);
  }
}
