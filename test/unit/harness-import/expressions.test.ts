/** Harness expressions in scripts and values: found, translated when they read a variable, reported otherwise. */
import { findHarnessExpressions, translateExpressions } from '../../../src/harness-import/expressions';
import { ImportReport } from '../../../src/harness-import/report';

const at = { file: 'p.yaml', path: ['script'] };
const variables = (reference: string) =>
  ({ 'pipeline.variables.version': 'version', 'workflow.variables.region': 'item' })[reference];

function translate(text: string, kind: 'command' | 'value' | 'literal' = 'command') {
  const report = new ImportReport();
  const result = translateExpressions(text, kind, variables, at, report);
  return { result, warnings: report.warnings.map((w) => w.message) };
}

describe('findHarnessExpressions', () => {
  it('finds NextGen and FirstGen expressions, nested ones inside the outer', () => {
    const found = findHarnessExpressions(
      'echo <+pipeline.name> ${workflow.variables.x} ${secrets.getValue("k")} <+<+stage.name>.length()>',
    );
    expect(found.map((e) => e.source)).toEqual([
      '<+pipeline.name>',
      '${workflow.variables.x}',
      '${secrets.getValue("k")}',
      '<+<+stage.name>.length()>',
    ]);
    expect(found[0]!.reference).toBe('pipeline.name');
  });

  it('leaves shell parameters and Convoy expressions alone', () => {
    expect(findHarnessExpressions('echo ${HOME} ${x:-y} ${#list} $PATH ${{ vars.version }} a<b >c')).toEqual(
      [],
    );
  });
});

describe('translateExpressions', () => {
  it('turns variables into the exported environment variable in commands', () => {
    expect(translate('deploy <+pipeline.variables.version> to "${workflow.variables.region}"')).toEqual({
      result: 'deploy ${CONVOY_VAR_VERSION} to "${CONVOY_VAR_ITEM}"',
      warnings: [],
    });
  });

  it('warns when the shell would not expand the translation (single quotes, escapes, comments)', () => {
    const { result, warnings } = translate(
      "echo '<+pipeline.variables.version>' \\<+pipeline.variables.version>",
    );
    expect(result).toBe("echo '${CONVOY_VAR_VERSION}' \\${CONVOY_VAR_VERSION}");
    expect(warnings).toEqual([
      '<+pipeline.variables.version> became ${CONVOY_VAR_VERSION}, which the shell does not expand inside single quotes (Harness replaced the text before running it)',
      '<+pipeline.variables.version> became ${CONVOY_VAR_VERSION}, which the shell does not expand after a backslash (Harness replaced the text before running it)',
    ]);
  });

  it('turns variables into Convoy expressions in environment values', () => {
    expect(translate('v<+pipeline.variables.version>', 'value').result).toBe('v${{ vars.version }}');
  });

  it('reports every other expression, one line each, and leaves it as written', () => {
    const { result, warnings } = translate('echo <+pipeline.sequenceId> ${artifact.buildNo}');
    expect(result).toBe('echo <+pipeline.sequenceId> ${artifact.buildNo}');
    expect(warnings).toEqual([
      'Harness expression <+pipeline.sequenceId> is not carried over (Convoy cannot evaluate it); it stays as written: replace it with ${{ vars.NAME }} or an environment variable',
      'Harness expression ${artifact.buildNo} is not carried over (Convoy cannot evaluate it); it stays as written: replace it with ${{ vars.NAME }} or an environment variable',
    ]);
  });

  it('translates nothing in a literal (a variable value is never expanded)', () => {
    const { result, warnings } = translate('<+pipeline.variables.version>', 'literal');
    expect(result).toBe('<+pipeline.variables.version>');
    expect(warnings).toHaveLength(1);
  });
});
