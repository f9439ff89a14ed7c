/** Step mappings from `--map` and `--map-file`, and reading Harness files from disk. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMapOption, readMappingData } from '../../../src/harness-import/mappings';
import { readHarnessFiles, readMappings } from '../../../src/harness-import/read';

const dir = mkdtempSync(join(tmpdir(), 'convoy-harness-map-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('--map STEP_TYPE=COMMAND', () => {
  it('takes everything after the first = as the command', () => {
    expect(parseMapOption('K8sRollingDeploy=./deploy.sh --env=prod')).toEqual({
      ok: true,
      type: 'K8sRollingDeploy',
      command: './deploy.sh --env=prod',
    });
  });

  it.each([
    ['K8sRollingDeploy', '--map K8sRollingDeploy: expected STEP_TYPE=COMMAND'],
    ['=echo', '--map =echo: expected STEP_TYPE=COMMAND'],
    ['Http= ', '--map Http= : expected STEP_TYPE=COMMAND'],
    ['Bad Type=x', "--map Bad Type=x: 'Bad Type' is not a Harness step type (letters, digits and '_')"],
    [
      'ShellScript=x',
      '--map ShellScript=x: ShellScript steps are imported as they are; only other step types can be mapped',
    ],
    [
      'BARRIER=x',
      '--map BARRIER=x: BARRIER steps are imported as they are; only other step types can be mapped',
    ],
  ])('rejects %p', (text, message) => {
    expect(parseMapOption(text)).toEqual({ ok: false, message });
  });
});

describe('mapping files', () => {
  it('reads a mapping of step types to commands, reporting each bad entry at its key', () => {
    expect(readMappingData({ HarnessApproval: 'true', Http: 42, Barrier: 'x' })).toEqual({
      mappings: new Map([['HarnessApproval', 'true']]),
      issues: [
        { path: 'Http', message: 'expected a command (a non-empty string)' },
        {
          path: 'Barrier',
          message: 'Barrier steps are imported as they are; only other step types can be mapped',
        },
      ],
    });
    expect(readMappingData(['x']).issues).toEqual([
      {
        path: '',
        message: 'expected a mapping of Harness step types to commands (K8sRollingDeploy: ./deploy.sh)',
      },
    ]);
  });

  it('reads files in order, later files and then --map options winning', () => {
    const first = file('team.yaml', 'K8sRollingDeploy: ./k8s.sh\nHarnessApproval: "true"\n');
    const second = file('mine.yaml', 'HarnessApproval: ./approve.sh\n');
    const { mappings, errors } = readMappings([first, second], new Map([['K8sRollingDeploy', './mine.sh']]));
    expect(errors).toEqual([]);
    expect(Object.fromEntries(mappings)).toEqual({
      K8sRollingDeploy: './mine.sh',
      HarnessApproval: './approve.sh',
    });
  });

  it('reports a missing or empty mapping file in its own words', () => {
    const empty = file('empty.yaml', '\n');
    expect(readMappings([join(dir, 'nope.yaml'), empty], new Map()).errors).toEqual([
      { file: join(dir, 'nope.yaml'), path: '', message: 'file not found' },
      { file: empty, path: '', message: 'the file is empty; expected step mappings (STEP_TYPE: COMMAND)' },
    ]);
  });
});

describe('readHarnessFiles', () => {
  it('loads YAML safely and reports what it cannot read, per file', () => {
    const good = file('good.yaml', 'pipeline:\n  identifier: p\n');
    const bad = file('bad.yaml', 'pipeline: [\n');
    const { files, errors } = readHarnessFiles([good, bad, join(dir, 'missing.yaml')]);
    expect(files).toEqual([{ file: good, data: { pipeline: { identifier: 'p' } } }]);
    expect(errors.map((e) => [e.file, e.message.split(':')[0]])).toEqual([
      [bad, 'invalid YAML'],
      [join(dir, 'missing.yaml'), 'file not found'],
    ]);
  });
});
