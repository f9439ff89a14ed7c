/**
 * Secrets in the plan: only references travel (SPEC section 1, "Secrets").
 *
 * A pipeline file declares where each secret lives on the worker (`{ env: NAME }` or
 * `{ file: /path }`); steps write `${{ secrets.NAME }}`. Compiling keeps the reference: a plan
 * field holds the canonical text `${{ secrets.NAME }}` (env values, URLs, headers, bodies) or, in
 * a shell command, `"$CONVOY_SECRET_NAME"`, and the step lists the sources of the secrets it uses.
 * Only the step's activity, on the worker, reads the values and puts them in place, so the plan,
 * workflow inputs and histories never hold one.
 *
 * Pure module: the syntax and the substitution, shared by the file compiler and the activities.
 */
import { z } from 'zod';

/** Secret names: what `CONVOY_SECRET_<NAME>` can carry unchanged (POSIX portable env names). */
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Environment variable names a secret may be read from. */
const ENV_SOURCE_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where the worker reads a secret: its own environment, or a file (a mounted Kubernetes Secret). */
export const secretSourceSchema = z.union([
  z.strictObject({ env: z.string().regex(ENV_SOURCE_PATTERN) }),
  z.strictObject({ file: z.string().startsWith('/') }),
]);
export type SecretSource = z.infer<typeof secretSourceSchema>;

/** The secrets a step uses, by name; present on a plan step only when it uses some. */
export const stepSecretsSchema = z.record(z.string().regex(SECRET_NAME_PATTERN), secretSourceSchema);
export type StepSecrets = z.infer<typeof stepSecretsSchema>;

/** What replaces a secret's value in every output and message. */
export const SECRET_MASK = '***';

/** Prefix of the environment variable a shell step gets each secret it uses as. */
export const SECRET_ENV_PREFIX = 'CONVOY_SECRET_';

/** The environment variable a shell step reads secret `name` from: `CONVOY_SECRET_<name>`. */
export function secretEnvName(name: string): string {
  return SECRET_ENV_PREFIX + name;
}

/** The canonical reference to a secret, as plan fields hold it. */
export function secretReference(name: string): string {
  return `\${{ secrets.${name} }}`;
}

/** `${{ secrets.NAME }}`, as written in a file (any spacing) or in the plan (canonical). */
const REFERENCE_PATTERN = /\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** True when `text` mentions a secret (used to refuse secrets where they are not allowed). */
export function mentionsSecret(text: string): boolean {
  return /\$\{\{\s*secrets\./.test(text);
}

/** The names of the secrets `text` refers to, in order of first appearance. */
export function referencedSecrets(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(REFERENCE_PATTERN)) names.add(match[1]!);
  return [...names];
}

/**
 * Puts secret values in place of their references. Only names in `values` are replaced: a
 * reference to a secret the step does not list stays as written.
 */
export function substituteSecrets(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(REFERENCE_PATTERN, (reference, name: string) => values.get(name) ?? reference);
}

/** Describes where a secret comes from, for messages: `environment variable X`, `file /p`. */
export function describeSecretSource(source: SecretSource): string {
  return 'env' in source ? `environment variable ${source.env}` : `file ${source.file}`;
}
