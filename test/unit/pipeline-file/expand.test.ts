/**
 * Expansion: variables, `forEach`, `when`, `CONVOY_VAR_*`, and above all shell quoting: a value
 * placed into a shell command must come out literally, whatever it holds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  envNameForVariable,
  evaluateWhen,
  expandShellCommand,
  expandText,
  mergeVariables,
  parseVarAssignment,
  type ExpansionContext,
} from '../../../src/pipeline-file/expand';
import {
  ShellContexts,
  classifyExpressionContexts,
  shellQuote,
} from '../../../src/pipeline-file/shell-quoting';
import { compilePipeline } from '../../../src/pipeline-file/compile';
import type { ShellStepPlan } from '../../../src/model/plan';
import { basePipeline, cleanupTempDirs, makeTempDir, writePipeline } from './helpers';

afterAll(cleanupTempDirs);

function context(variables: Record<string, string>): ExpansionContext {
  return {
    variables: new Map(Object.entries(variables)),
    pipelineId: 'release-42',
    workflowName: 'payments[eu]',
  };
}

/**
 * Runs `command` with /bin/sh in a sandbox: HOME and the working directory are a fresh temporary
 * directory holding a sentinel file, so even a broken quoting could only touch that directory.
 */
function runInSandbox(
  command: string,
  env: Record<string, string> = {},
): { stdout: string; sandbox: string } {
  const sandbox = makeTempDir();
  mkdirSync(join(sandbox, 'home'));
  writeFileSync(join(sandbox, 'home', 'sentinel'), 'still here');
  const stdout = execFileSync('/bin/sh', ['-c', command], {
    cwd: sandbox,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(sandbox, 'home'), ...env },
    encoding: 'utf8',
  });
  return { stdout, sandbox };
}

const NASTY = `$(touch pwned); rm -rf ~ 'x"`;

describe('shellQuote', () => {
  it("wraps in single quotes and writes a quote as '\"'\"'", () => {
    expect(shellQuote("it's")).toBe(`'it'"'"'s'`);
    expect(shellQuote('')).toBe(`''`);
  });

  it('makes /bin/sh print a nasty value literally, running nothing', () => {
    const { stdout, sandbox } = runInSandbox(`printf %s ${shellQuote(NASTY)}`);
    expect(stdout).toBe(NASTY);
    expect(existsSync(join(sandbox, 'pwned'))).toBe(false);
    expect(existsSync(join(sandbox, 'home', 'sentinel'))).toBe(true);
  });

  it('round-trips any string without NUL through /bin/sh as one word', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0')),
        (value) => {
          // Two arguments prove the value stayed one word: `%s|` per argument.
          const stdout = execFileSync('/bin/sh', ['-c', `printf '%s|' ${shellQuote(value)} end`], {
            encoding: 'utf8',
          });
          expect(stdout).toBe(`${value}|end|`);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('expressions in a shell command', () => {
  it('turns each expression into one single-quoted word', () => {
    const expanded = expandShellCommand(
      'deploy ${{ vars.service }} --id ${{pipeline.id}} --as=${{ workflow.name }}',
      context({ service: "o'neil svc" }),
    );
    expect(expanded.problems).toEqual([]);
    expect(expanded.value).toBe(`deploy 'o'"'"'neil svc' --id 'release-42' --as='payments[eu]'`);
  });

  it('runs a compiled pipeline command with a nasty --var literally', () => {
    const pipeline = basePipeline();
    pipeline.stages[0].workflows[1].steps[0].command =
      'printf "%s|" ${{ vars.payload }}; printf "%s" "$CONVOY_VAR_PAYLOAD"';
    const { plan } = compilePipeline(writePipeline(pipeline), {
      pipelineId: 'p-1',
      vars: { payload: NASTY },
    });
    const step = plan.stages[0]!.workflows[1]!.steps[0] as ShellStepPlan;
    const { stdout, sandbox } = runInSandbox(step.command, step.env);
    expect(stdout).toBe(`${NASTY}|${NASTY}`);
    expect(existsSync(join(sandbox, 'pwned'))).toBe(false);
    expect(existsSync(join(sandbox, 'home', 'sentinel'))).toBe(true);
  });

  it.each([
    ['echo ${{ vars.x }}', ShellContexts.unquoted],
    ['echo \'a\' ${{ vars.x }} "b"', ShellContexts.unquoted],
    ['echo $(echo ${{ vars.x }})', ShellContexts.unquoted],
    ['(cd /tmp && echo ${{ vars.x }})', ShellContexts.unquoted],
    ['case a in a) echo ${{ vars.x }};; esac', ShellContexts.unquoted],
    ["echo '${{ vars.x }}'", ShellContexts.singleQuoted],
    ['echo "v=${{ vars.x }}"', ShellContexts.doubleQuoted],
    ['echo "$(echo ${{ vars.x }})"', ShellContexts.doubleQuoted],
    ['echo `echo ${{ vars.x }}`', ShellContexts.backticks],
    ['echo ${X:-${{ vars.x }}}', ShellContexts.parameterExpansion],
    ['echo $(( ${{ vars.x }} + 1 ))', ShellContexts.arithmetic],
    ['echo hi # ${{ vars.x }}', ShellContexts.comment],
    ['cat <<EOF\n${{ vars.x }}\nEOF', ShellContexts.hereDocument],
    ['echo \\${{ vars.x }}', ShellContexts.escaped],
    ['echo $${{ vars.x }}', ShellContexts.afterDollar],
    ['echo "$(case a in a) echo ")" ${{ vars.x }};; esac)"', ShellContexts.doubleQuoted],
  ])('classifies %j as %s', (command, expected) => {
    const contexts = classifyExpressionContexts(command);
    expect(contexts.get(command.indexOf('${{'))).toBe(expected);
  });

  it('treats a # inside a word as text, not a comment', () => {
    const command = 'echo a#b ${{ vars.x }}';
    expect(classifyExpressionContexts(command).get(command.indexOf('${{'))).toBe(ShellContexts.unquoted);
  });

  it('refuses every context but plain command text, pointing at the CONVOY_VAR_ variable', () => {
    const expanded = expandShellCommand("echo '${{ vars.image-tag }}'", context({ 'image-tag': 'v1' }));
    expect(expanded.problems).toEqual([
      '${{ vars.image-tag }} stands inside single-quoted; in a shell command each expression becomes one single-quoted word, ' +
        'which is only safe outside quotes: write it outside quotes (echo "version:" ${{ vars.image-tag }}) ' +
        'or use "$CONVOY_VAR_IMAGE_TAG" instead',
    ]);
  });

  it('leaves commands without expressions untouched, quotes and all', () => {
    const command = `echo "it's \${HOME}" | sed 's/a/b/' # done`;
    expect(expandShellCommand(command, context({}))).toEqual({ value: command, problems: [] });
  });
});

describe('expressions in other fields', () => {
  it('inserts values as they are', () => {
    expect(
      expandText('https://${{ vars.host }}/health?run=${{ pipeline.id }}', context({ host: 'api.local' })),
    ).toEqual({
      value: 'https://api.local/health?run=release-42',
      problems: [],
    });
  });

  it('reports unknown variables, unknown expressions and unclosed ones', () => {
    expect(expandText('${{ vars.nope }}', context({ a: '1' })).problems).toEqual([
      "unknown variable 'nope' in ${{ vars.nope }}; defined: a",
    ]);
    expect(expandText('${{ env.HOME }}', context({})).problems[0]).toMatch(
      /^unknown expression \$\{\{ env\.HOME \}\}/,
    );
    expect(expandText('x ${{ vars.a', context({ a: '1' })).problems[0]).toMatch(/^unclosed expression/);
  });

  it('does not expand expressions inside variable values', () => {
    expect(expandText('${{ vars.a }}', context({ a: '${{ vars.b }}', b: 'secret' })).value).toBe(
      '${{ vars.b }}',
    );
  });
});

describe('variables', () => {
  it('merges later layers over earlier ones', () => {
    const merged = mergeVariables(
      { a: 'pipeline', b: 'pipeline', c: 'pipeline' },
      { b: 'workflow', c: 'workflow' },
      { c: 'override' },
    );
    expect(Object.fromEntries(merged)).toEqual({ a: 'pipeline', b: 'workflow', c: 'override' });
  });

  it('exports names upper-cased with other characters turned into _', () => {
    expect(envNameForVariable('image-tag')).toBe('CONVOY_VAR_IMAGE_TAG');
    expect(envNameForVariable('version')).toBe('CONVOY_VAR_VERSION');
    expect(envNameForVariable('_x1')).toBe('CONVOY_VAR__X1');
  });

  it('parses --var assignments, values may hold =', () => {
    expect(parseVarAssignment('version=1.5.0')).toEqual({ ok: true, name: 'version', value: '1.5.0' });
    expect(parseVarAssignment('q=a=b')).toEqual({ ok: true, name: 'q', value: 'a=b' });
    expect(parseVarAssignment('empty=')).toEqual({ ok: true, name: 'empty', value: '' });
    expect(parseVarAssignment('novalue').ok).toBe(false);
    expect(parseVarAssignment('__proto__=x').ok).toBe(false);
  });

  it('applies pipeline < workflow < forEach item < --var in a compiled plan, and exports them all', () => {
    const pipeline = {
      name: 'layers',
      variables: { a: 'pipeline', b: 'pipeline', c: 'pipeline', item: 'pipeline', port: 8080, debug: true },
      stages: [
        {
          name: 'deploy',
          workflows: [
            {
              name: 'svc',
              forEach: ['eu', 7],
              variables: { b: 'workflow', c: 'workflow', item: 'workflow' },
              steps: [
                {
                  name: 'show',
                  type: 'shell',
                  command: 'echo ${{ vars.a }} ${{ vars.b }} ${{ vars.c }} ${{ vars.item }}',
                  env: { MODE: 'x-${{ vars.c }}' },
                },
              ],
            },
          ],
        },
      ],
    };
    const { plan } = compilePipeline(writePipeline(pipeline), { pipelineId: 'p-2', vars: { c: 'override' } });
    const workflows = plan.stages[0]!.workflows;
    expect(workflows.map((w) => w.name)).toEqual(['svc[eu]', 'svc[7]']);
    expect(workflows[1]!.variables).toEqual({
      a: 'pipeline',
      b: 'workflow',
      c: 'override',
      item: '7',
      port: '8080',
      debug: 'true',
    });
    const step = workflows[0]!.steps[0] as ShellStepPlan;
    expect(step.command).toBe(`echo 'pipeline' 'workflow' 'override' 'eu'`);
    expect(step.env).toEqual({
      MODE: 'x-override',
      CONVOY_VAR_A: 'pipeline',
      CONVOY_VAR_B: 'workflow',
      CONVOY_VAR_C: 'override',
      CONVOY_VAR_ITEM: 'eu',
      CONVOY_VAR_PORT: '8080',
      CONVOY_VAR_DEBUG: 'true',
      CONVOY_PIPELINE_ID: 'p-2',
      CONVOY_WORKFLOW_NAME: 'svc[eu]',
    });
  });
});

describe('when', () => {
  const vars = new Map([['region', 'eu']]);
  it('skips unless equals matches', () => {
    expect(evaluateWhen({ var: 'region', equals: 'eu' }, vars)).toEqual({ skip: false });
    expect(evaluateWhen({ var: 'region', equals: 'us' }, vars)).toEqual({ skip: true });
  });
  it('skips when notEquals matches', () => {
    expect(evaluateWhen({ var: 'region', notEquals: 'eu' }, vars)).toEqual({ skip: true });
    expect(evaluateWhen({ var: 'region', notEquals: 'us' }, vars)).toEqual({ skip: false });
  });
  it('never skips without a condition, and reports an unknown variable', () => {
    expect(evaluateWhen(undefined, vars)).toEqual({ skip: false });
    expect(evaluateWhen({ var: 'zone', equals: 'a' }, vars).problem).toBe(
      "unknown variable 'zone'; defined: region",
    );
  });

  it('is evaluated per forEach item in the plan', () => {
    const pipeline = {
      name: 'regions',
      stages: [
        {
          name: 'deploy',
          workflows: [
            {
              name: 'region',
              forEach: ['eu', 'us'],
              steps: [{ name: 'eu-only', type: 'wait', durationMs: 10, when: { var: 'item', equals: 'eu' } }],
            },
          ],
        },
      ],
    };
    const { plan } = compilePipeline(writePipeline(pipeline), { pipelineId: 'p-3' });
    expect(plan.stages[0]!.workflows.map((w) => w.steps[0]!.skip)).toEqual([false, true]);
  });
});
