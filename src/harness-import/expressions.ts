/**
 * Harness expressions in text Convoy carries over (shell scripts, environment values, variable
 * values): NextGen `<+...>` and FirstGen `${a.b}`. Convoy cannot evaluate them. The ones that read
 * a variable the import carries over (`<+pipeline.variables.version>`,
 * `${workflow.variables.version}`) become the environment variable Convoy exports it as
 * (`${CONVOY_VAR_VERSION}`), which a shell expands wherever Harness substituted the text, except
 * inside single quotes, a comment or a here-document (reported). Every other expression is left as
 * written and reported, one line each: the command will not do the same as in Harness.
 *
 * Plain shell parameters (`${HOME}`, `${x:-y}`) are not Harness expressions and are left alone.
 *
 * Pure module.
 */
import { envNameForVariable } from '../pipeline-file/expand';
import { ShellContexts, classifyExpressionContexts } from '../pipeline-file/shell-quoting';
import type { HarnessLocation, ImportReport } from './report';

/** One Harness expression in a text. */
export interface HarnessExpression {
  index: number;
  /** As written, e.g. `<+pipeline.variables.version>`. */
  source: string;
  /** Inside the delimiters, trimmed, e.g. `pipeline.variables.version`. */
  reference: string;
}

/** `${` then a dotted or called reference (`${workflow.variables.x}`, `${secrets.getValue("k")}`). */
const FIRSTGEN_EXPRESSION = /\$\{(?!\{)\s*([A-Za-z_][A-Za-z0-9_]*\s*[.([][^{}]*?)\s*\}/g;

/** Every Harness expression in `text`, in order: `<+...>` (nested ones included in the outer) and `${a.b}`. */
export function findHarnessExpressions(text: string): HarnessExpression[] {
  const found: HarnessExpression[] = [];
  for (let start = text.indexOf('<+'); start >= 0; start = text.indexOf('<+', start + 2)) {
    let depth = 0;
    let end = -1;
    for (let i = start; i < text.length; i++) {
      if (text.startsWith('<+', i)) {
        depth += 1;
        i += 1;
      } else if (text[i] === '>' && --depth === 0) {
        end = i;
        break;
      }
    }
    const stop = end < 0 ? text.length : end + 1;
    found.push({
      index: start,
      source: text.slice(start, stop),
      reference: text.slice(start + 2, stop - 1).trim(),
    });
    start = stop - 2;
  }
  for (const match of text.matchAll(FIRSTGEN_EXPRESSION)) {
    found.push({ index: match.index, source: match[0], reference: match[1]!.trim() });
  }
  return found.sort((a, b) => a.index - b.index);
}

/** Names the Convoy variable an expression's reference reads, or undefined when it reads none. */
export type VariableResolver = (reference: string) => string | undefined;

/**
 * Where the text goes. In a shell `command` a variable becomes `${CONVOY_VAR_NAME}` (expanded by
 * the shell, so quoting decides whether it still works); in an environment `value` it becomes
 * `${{ vars.NAME }}` (expanded by Convoy, inserted as is); a `literal` (a variable's own value) is
 * never expanded by Convoy, so nothing in it can be translated.
 */
export type TextKind = 'command' | 'value' | 'literal';

/**
 * Translates the expressions of `text` that read carried-over variables (see {@link TextKind}) and
 * reports every other one, and every translation the shell would not expand, at `at`.
 */
export function translateExpressions(
  text: string,
  kind: TextKind,
  resolve: VariableResolver,
  at: HarnessLocation,
  report: ImportReport,
): string {
  const expressions = findHarnessExpressions(text);
  if (expressions.length === 0) return text;
  const contexts = kind === 'command' ? shellContextsOf(text, expressions) : undefined;
  let result = '';
  let position = 0;
  for (const expression of expressions) {
    if (expression.index < position) continue; // inside an expression already handled
    result += text.slice(position, expression.index);
    position = expression.index + expression.source.length;
    const variable = kind === 'literal' ? undefined : resolve(expression.reference);
    if (variable === undefined) {
      report.warn(
        at,
        `Harness expression ${expression.source} is not carried over (Convoy cannot evaluate it); ` +
          'it stays as written: replace it with ${{ vars.NAME }} or an environment variable',
      );
      result += expression.source;
      continue;
    }
    const replacement =
      kind === 'command' ? `\${${envNameForVariable(variable)}}` : `\${{ vars.${variable} }}`;
    const unexpanded = UNEXPANDED_CONTEXTS[contexts?.get(expression.index) ?? ''];
    if (unexpanded !== undefined) {
      report.warn(
        at,
        `${expression.source} became ${replacement}, which the shell does not expand ${unexpanded} ` +
          '(Harness replaced the text before running it)',
      );
    }
    result += replacement;
  }
  return result + text.slice(position);
}

/** Where the shell leaves `${NAME}` as it is (or may, after `<<`), as the warning says it. */
const UNEXPANDED_CONTEXTS: Readonly<Record<string, string>> = {
  [ShellContexts.singleQuoted]: 'inside single quotes',
  [ShellContexts.comment]: 'in a comment',
  [ShellContexts.hereDocument]: "in a here-document if its delimiter is quoted (<<'EOF')",
  [ShellContexts.escaped]: 'after a backslash',
  [ShellContexts.afterDollar]: "after '$'",
};

/**
 * Where each expression stands in a shell command, by Convoy's own shell lexer: the command is
 * scanned with every expression replaced by a `${{ }}` placeholder the lexer classifies.
 */
function shellContextsOf(text: string, expressions: readonly HarnessExpression[]): Map<number, string> {
  const placeholder = '${{ x }}';
  let probe = '';
  let position = 0;
  const probeIndex = new Map<number, number>();
  for (const expression of expressions) {
    if (expression.index < position) continue;
    probe += text.slice(position, expression.index).replaceAll('${{', '$ {{');
    probeIndex.set(probe.length, expression.index);
    probe += placeholder;
    position = expression.index + expression.source.length;
  }
  probe += text.slice(position).replaceAll('${{', '$ {{');
  const contexts = new Map<number, string>();
  for (const [index, context] of classifyExpressionContexts(probe)) {
    const original = probeIndex.get(index);
    if (original !== undefined) contexts.set(original, context);
  }
  return contexts;
}
