/**
 * The package's public API (src/index.ts): what it exports at run time, and that every export,
 * types included, carries TSDoc for the editors of the people who use it.
 */
import { join } from 'node:path';
import ts from 'typescript';
import * as api from '../../src/index';

const entry = join(__dirname, '..', '..', 'src', 'index.ts');

test('the run-time exports are the client, validation, the errors and the configuration', () => {
  expect(Object.keys(api).sort()).toEqual(
    [
      'ConvoyClient',
      'DEFINITION_SOURCE',
      'NotAPipelineError',
      'OperatorCommandRejectedError',
      'PipelineAlreadyEndedError',
      'PipelineAlreadyExistsError',
      'PipelineHandle',
      'PipelineNotFoundError',
      'PipelineValidationError',
      'TemporalConfigError',
      'TemporalUnreachableError',
      'TrainHandle',
      'TrainNotFoundError',
      'describeConnection',
      'resolveTemporalConnection',
      'formatIssue',
      'formatPipelineEvent',
      'flattenChildPipelines',
      'loadPipeline',
      'pipelineJsonSchema',
      'validatePipeline',
      'temporalConfigFromEnv',
      'COMPRESSED_ENCODING',
      'CodecSettingsError',
      'CompressionCodec',
      'ENCRYPTED_ENCODING',
      'EncryptionCodec',
      'PayloadDecryptionError',
      'encryptionCodecFromEnv',
      'payloadCodecsFromEnv',
    ].sort(),
  );
});

test('every error class has a stable name and keeps its cause', () => {
  const cause = new Error('underneath');
  const errors = [
    new api.PipelineNotFoundError('m', 'p', { cause }),
    new api.PipelineAlreadyExistsError('m', 'p', { cause }),
    new api.OperatorCommandRejectedError('why', 'p', 'intervene', { cause }),
    new api.TemporalUnreachableError('m', { cause }),
    new api.TemporalConfigError('m', { cause }),
    new api.PayloadDecryptionError('m', { cause }),
    new api.CodecSettingsError('m', { cause }),
    new api.NotAPipelineError('m', 'p/w', 'p', 'w', { cause }),
    new api.PipelineAlreadyEndedError('m', 'p', 'succeeded', { cause }),
    new api.TrainNotFoundError('m', 'spring-release', 'cutover', { cause }),
  ];
  expect(errors.map((error) => [error.name, error.cause])).toEqual([
    ['PipelineNotFoundError', cause],
    ['PipelineAlreadyExistsError', cause],
    ['OperatorCommandRejectedError', cause],
    ['TemporalUnreachableError', cause],
    ['TemporalConfigError', cause],
    ['PayloadDecryptionError', cause],
    ['CodecSettingsError', cause],
    ['NotAPipelineError', cause],
    ['PipelineAlreadyEndedError', cause],
    ['TrainNotFoundError', cause],
  ]);
  expect(new api.PipelineValidationError('f.yaml', []).name).toBe('PipelineValidationError');
});

test('every export of src/index.ts has TSDoc', () => {
  const program = ts.createProgram([entry], { noResolve: false, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry)!;
  const moduleSymbol = checker.getSymbolAtLocation(source)!;
  const undocumented = checker
    .getExportsOfModule(moduleSymbol)
    .filter((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === '';
    })
    .map((symbol) => symbol.name);
  expect(undocumented).toEqual([]);
});
