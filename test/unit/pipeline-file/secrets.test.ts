/**
 * Secrets in the pipeline file: declared under `secrets:`, referenced as `${{ secrets.NAME }}`,
 * and compiled to references only (SPEC section 1, "Secrets").
 */
import { compilePipeline } from '../../../src/pipeline-file/compile';
import { cleanupTempDirs, validate, writePipeline } from './helpers';

afterAll(cleanupTempDirs);

function pipeline(steps: object[], extra: object = {}) {
  return {
    name: 'secret-pipeline',
    secrets: { TOKEN: { env: 'API_TOKEN' }, DB: { file: '/var/run/secrets/db/password' } },
    ...extra,
    stages: [{ name: 'deploy', workflows: [{ name: 'app', steps }] }],
  };
}

describe('secrets in a pipeline file', () => {
  it('compiles to references: the command reads CONVOY_SECRET_*, fields keep ${{ secrets.NAME }}', () => {
    const file = writePipeline(
      pipeline([
        {
          name: 'migrate',
          type: 'shell',
          command: 'psql --password ${{ secrets.DB }} x${{secrets.TOKEN}}y',
          env: { PGPASSWORD: 'pw:${{ secrets.DB }}' },
        },
        {
          name: 'notify',
          type: 'http',
          url: 'https://hooks.local/${{ secrets.TOKEN }}/x',
          headers: { Authorization: 'Bearer ${{secrets.TOKEN}}' },
          body: '{"token":"${{ secrets.TOKEN }}"}',
        },
        { name: 'settle', type: 'wait', durationMs: 1000 },
      ]),
    );
    const { plan, warnings } = compilePipeline(file, { pipelineId: 'p-1', vars: {} });
    const [shell, http, wait] = plan.stages[0]!.workflows[0]!.steps;
    expect(shell).toMatchObject({
      command: 'psql --password "$CONVOY_SECRET_DB" x"$CONVOY_SECRET_TOKEN"y',
      secrets: { DB: { file: '/var/run/secrets/db/password' }, TOKEN: { env: 'API_TOKEN' } },
    });
    expect(shell?.type === 'shell' && shell.env.PGPASSWORD).toBe('pw:${{ secrets.DB }}');
    expect(http).toMatchObject({
      url: 'https://hooks.local/${{ secrets.TOKEN }}/x',
      headers: { Authorization: 'Bearer ${{ secrets.TOKEN }}' },
      body: '{"token":"${{ secrets.TOKEN }}"}',
      secrets: { TOKEN: { env: 'API_TOKEN' } },
    });
    expect(wait).not.toHaveProperty('secrets');
    expect(warnings).toEqual([]);
  });

  it('rejects an unknown secret, naming the file, the field and the declared ones', () => {
    const result = validate(pipeline([{ name: 's', type: 'shell', command: 'echo ${{ secrets.TOKN }}' }]));
    expect(result.code).toBe(2);
    expect(result.errors).toEqual([
      "pipeline.yaml: stages[0].workflows[0].steps[0].command: unknown secret 'TOKN' in ${{ secrets.TOKN }}; declared: DB, TOKEN",
    ]);
  });

  it('rejects secrets where their value would not reach a step', () => {
    const result = validate(
      pipeline(
        [
          {
            name: 'deploy ${{ secrets.TOKEN }}',
            type: 'shell',
            command: 'true',
            description: '${{ secrets.DB }}',
          },
        ],
        { variables: { v: '${{ secrets.TOKEN }}' } },
      ),
      { w: 'x${{ secrets.DB }}' },
    );
    expect(result.code).toBe(2);
    const only =
      "secrets are not allowed here; only in a shell step's command and env values, an http step's url, headers values and body";
    expect(result.errors).toEqual(
      expect.arrayContaining([
        `pipeline.yaml: --var w: ${only}`,
        `pipeline.yaml: variables.v: ${only}`,
        `pipeline.yaml: stages[0].workflows[0].steps[0].name: ${only}`,
        `pipeline.yaml: stages[0].workflows[0].steps[0].description: ${only}`,
      ]),
    );
  });

  it('rejects a secret in a barrier identifier, as every expression', () => {
    const result = validate(
      pipeline([{ name: 'gate', type: 'barrier', identifier: '${{ secrets.TOKEN }}' }]),
    );
    expect(result.errors).toEqual([
      'pipeline.yaml: stages[0].workflows[0].steps[0].identifier: expressions are not allowed in barrier identifiers; write a literal like services-deployed',
    ]);
  });

  it('rejects a secret inside quotes in a command, pointing at the step env instead', () => {
    const result = validate(pipeline([{ name: 's', type: 'shell', command: 'echo "${{ secrets.TOKEN }}"' }]));
    expect(result.errors[0]).toContain(
      `use a variable of the step's env (env: { TOKEN: '\${{ secrets.TOKEN }}' }, then "$TOKEN")`,
    );
  });

  it('checks the declarations: one source each, a valid name, an absolute path', () => {
    const result = validate({
      ...pipeline([{ name: 's', type: 'shell', command: 'true' }]),
      secrets: { 'bad-name': { env: 'X' }, BOTH: { env: 'X', file: '/f' }, REL: { file: 'f' }, NONE: {} },
    });
    expect(result.errors).toEqual(
      expect.arrayContaining([
        "pipeline.yaml: secrets.bad-name: invalid secret name; expected letters, digits and '_', not starting with a digit",
        'pipeline.yaml: secrets.BOTH: expected exactly one of env or file',
        'pipeline.yaml: secrets.REL.file: expected an absolute path',
        'pipeline.yaml: secrets.NONE: expected exactly one of env or file',
      ]),
    );
  });

  it('warns about a declared secret no step uses', () => {
    const result = validate(pipeline([{ name: 's', type: 'shell', command: 'echo ${{ secrets.TOKEN }}' }]));
    expect(result.code).toBe(0);
    expect(result.warnings).toEqual([
      "warning: pipeline.yaml: secrets.DB: secret 'DB' is not used by any step",
    ]);
  });
});
