/**
 * Placing values into shell commands without letting them become shell syntax.
 *
 * Each `${{ ... }}` expression in a shell step's `command` becomes ONE single-quoted POSIX word
 * (`it's` → `'it'"'"'s'`). Inside single quotes the shell interprets nothing, so no value can run
 * a command, split into words, or glob. That guarantee only holds where a single-quoted word is
 * parsed as one: in ordinary command text. Inside double quotes, backticks, `${...}`, `$((...))`,
 * a comment or a here-document the quotes would be literal characters (and `$(...)` in the value
 * would run), and after a `\` or `$` they change meaning. So {@link classifyExpressionContexts}
 * scans the command like a (small) shell lexer and reports where each expression stands; the
 * expander refuses every context but plain command text, pointing users at `$CONVOY_VAR_<NAME>`,
 * which is safe everywhere because the shell never re-parses a parameter's value.
 *
 * The scanner errs on the side of refusing: any quoting construct anywhere around an expression
 * (even `"$(echo ${{ vars.x }})"`, which a real shell would accept) makes it refuse.
 *
 * Pure module.
 */

/** Where an expression stands in a shell command; only `unquoted` is accepted. */
export const ShellContexts = {
  unquoted: 'unquoted',
  singleQuoted: 'single-quoted',
  doubleQuoted: 'double-quoted',
  backticks: 'backticks',
  parameterExpansion: 'parameter expansion',
  arithmetic: 'arithmetic expansion',
  comment: 'comment',
  hereDocument: 'here-document',
  escaped: 'escaped',
  afterDollar: 'after $',
} as const;
export type ShellContext = (typeof ShellContexts)[keyof typeof ShellContexts];

/**
 * Quotes a value as one POSIX shell word: wrapped in single quotes, each `'` written `'"'"'`
 * (close the quote, a double-quoted `'`, reopen). `/bin/sh -c "printf %s ${shellQuote(v)}"` prints
 * `v` exactly, whatever it holds.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

type FrameKind = 'top' | 'paren' | 'cmdsub' | 'sq' | 'dq' | 'backtick' | 'param' | 'arith' | 'comment';

interface Frame {
  kind: FrameKind;
  /** Open `case ... esac` blocks in this frame: their `pattern)` must not close a `$(`. */
  caseDepth: number;
  /** Open `(` inside `$((...))`. */
  parenDepth: number;
}

/** Frames where the shell reads command text and a single-quoted word is one literal word. */
const CODE_FRAMES: ReadonlySet<FrameKind> = new Set(['top', 'paren', 'cmdsub']);
const CONTEXT_OF_FRAME: Readonly<Record<Exclude<FrameKind, 'top' | 'paren' | 'cmdsub'>, ShellContext>> = {
  sq: ShellContexts.singleQuoted,
  dq: ShellContexts.doubleQuoted,
  backtick: ShellContexts.backticks,
  param: ShellContexts.parameterExpansion,
  arith: ShellContexts.arithmetic,
  comment: ShellContexts.comment,
};

const TOKEN_BOUNDARY = /[\s;&|()<>]/;
const CASE_KEYWORD = /^(case|esac)(?=[\s;&|()<>]|$)/;
const EXPRESSION_START = '${{';

/**
 * Scans a shell command and tells, for the index of every `${{` in it, where it stands.
 * An index missing from the result (an expression the scan jumped over) must be treated as unsafe.
 */
export function classifyExpressionContexts(command: string): Map<number, ShellContext> {
  const contexts = new Map<number, ShellContext>();
  const stack: Frame[] = [newFrame('top')];
  let afterHereDocumentOperator = false;
  let i = 0;

  const push = (kind: FrameKind): void => {
    stack.push(newFrame(kind));
  };
  const pop = (): void => {
    if (stack.length > 1) stack.pop();
  };
  /** A backslash escapes the next character; an escaped `$` of `${{` breaks the quoting. */
  const skipEscaped = (): void => {
    if (command.startsWith(EXPRESSION_START, i + 1)) contexts.set(i + 1, ShellContexts.escaped);
    i += 2;
  };
  /** `$((`, `$(` and `${` open nested contexts; any other `$` is an ordinary character. */
  const handleDollar = (): void => {
    if (command.startsWith('$((', i)) {
      push('arith');
      i += 3;
    } else if (command.startsWith('$(', i)) {
      push('cmdsub');
      i += 2;
    } else if (command.startsWith('${', i)) {
      push('param');
      i += 2;
    } else {
      i += 1;
    }
  };

  while (i < command.length) {
    const frame = stack[stack.length - 1]!;

    // Convoy expressions are recognised in every context, so each gets a verdict.
    if (command.startsWith(EXPRESSION_START, i)) {
      if (!contexts.has(i)) contexts.set(i, verdict(stack, afterHereDocumentOperator, command[i - 1]));
      const end = command.indexOf('}}', i + EXPRESSION_START.length);
      if (end < 0) break; // unclosed: the expander reports it
      i = end + 2;
      continue;
    }

    const char = command[i]!;
    switch (frame.kind) {
      case 'sq':
        if (char === "'") pop();
        i += 1;
        continue;
      case 'comment':
        if (char === '\n') pop();
        i += 1;
        continue;
      case 'backtick':
        if (char === '\\') skipEscaped();
        else {
          if (char === '`') pop();
          i += 1;
        }
        continue;
      case 'dq':
      case 'param':
      case 'arith':
        if (char === '\\') skipEscaped();
        else if (char === '$') handleDollar();
        else {
          if (char === '`') push('backtick');
          else if (frame.kind === 'dq' && char === '"') pop();
          else if (frame.kind === 'param' && char === '}') pop();
          else if (frame.kind === 'param' && char === '"') push('dq');
          // In `"${x:-'a'}"` the quotes are literal; in an unquoted `${x:-'a'}` they quote.
          else if (frame.kind === 'param' && char === "'" && stack[stack.length - 2]?.kind !== 'dq')
            push('sq');
          else if (frame.kind === 'arith' && char === '(') frame.parenDepth += 1;
          else if (frame.kind === 'arith' && char === ')') {
            if (frame.parenDepth > 0) frame.parenDepth -= 1;
            else if (command[i + 1] === ')') {
              pop();
              i += 1;
            }
          }
          i += 1;
        }
        continue;
      default:
        break; // command text: handled below
    }

    const atTokenStart = i === 0 || TOKEN_BOUNDARY.test(command[i - 1]!);
    if (char === '\\') {
      skipEscaped();
    } else if (char === "'") {
      push('sq');
      i += 1;
    } else if (char === '"') {
      push('dq');
      i += 1;
    } else if (char === '`') {
      push('backtick');
      i += 1;
    } else if (char === '$') {
      handleDollar();
    } else if (char === '#' && atTokenStart) {
      push('comment');
      i += 1;
    } else if (char === '(') {
      push('paren');
      i += 1;
    } else if (char === ')') {
      // In `case x in a) ...`, the `)` ends a pattern, not the enclosing `(` or `$(`.
      if ((frame.kind === 'paren' || frame.kind === 'cmdsub') && frame.caseDepth === 0) pop();
      i += 1;
    } else if (char === '<' && command[i + 1] === '<') {
      // Here-document bodies expand `$(...)` even inside single quotes: nothing after `<<` is safe.
      afterHereDocumentOperator = true;
      i += 2;
    } else {
      const keyword = atTokenStart ? CASE_KEYWORD.exec(command.slice(i, i + 5)) : null;
      if (keyword) {
        frame.caseDepth = keyword[1] === 'case' ? frame.caseDepth + 1 : Math.max(0, frame.caseDepth - 1);
        i += 4;
      } else {
        i += 1;
      }
    }
  }
  return contexts;
}

function newFrame(kind: FrameKind): Frame {
  return { kind, caseDepth: 0, parenDepth: 0 };
}

function verdict(
  stack: readonly Frame[],
  afterHereDocumentOperator: boolean,
  previous: string | undefined,
): ShellContext {
  if (afterHereDocumentOperator) return ShellContexts.hereDocument;
  for (let index = stack.length - 1; index >= 0; index--) {
    const kind = stack[index]!.kind;
    if (!CODE_FRAMES.has(kind)) return CONTEXT_OF_FRAME[kind as keyof typeof CONTEXT_OF_FRAME];
  }
  // `$'...'` is ANSI-C quoting in bash and POSIX 2024: backslashes inside would be interpreted.
  if (previous === '$') return ShellContexts.afterDollar;
  return ShellContexts.unquoted;
}
