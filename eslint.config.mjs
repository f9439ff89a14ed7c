// @ts-check
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import boundaries from 'eslint-plugin-boundaries';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

/**
 * The layers of src/, lowest first. A folder may import only the folders listed for it, so
 * imports between folders form no cycle: src/model is the workflow-safe base, the Node side
 * builds on it, and the CLI sits on top.
 */
const layers = {
  model: [],
  package: [],
  connection: [],
  codec: ['model'],
  workflows: ['model'],
  'pipeline-file': ['model'],
  'harness-import': ['model', 'pipeline-file'],
  activities: ['model'],
  worker: ['model', 'activities', 'workflows', 'connection', 'codec', 'package'],
  'dev-server': ['model', 'worker', 'activities', 'codec', 'package'],
  client: ['model', 'workflows', 'pipeline-file', 'connection', 'codec'],
  cli: [
    'model',
    'pipeline-file',
    'harness-import',
    'client',
    'connection',
    'codec',
    'dev-server',
    'worker',
    'package',
  ],
};

/**
 * src/index.ts, the package's public API, sits above the layers: it re-exports the client and
 * what its users need, and nothing imports it. Being one file, it is a file category rather than
 * a folder element.
 */
const entry = { type: 'entry', allowed: ['client', 'pipeline-file', 'model', 'connection', 'codec'] };

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-bench/**',
      'dist-cluster/**',
      'node_modules/**',
      '.convoy/**',
      'coverage/**',
      'bench/results/**',
      '**/*.js',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // No import cycles between folders: each layer imports only those below it (see `layers`).
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' }, node: true },
      'boundaries/include': ['src/**/*.ts'],
      'boundaries/elements': [...Object.keys(layers).map((type) => ({ type, pattern: `src/${type}` }))],
      'boundaries/files': [{ category: entry.type, pattern: 'src/index.ts' }],
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            ...Object.entries(layers).map(([type, allowed]) => ({
              from: { element: { type } },
              allow: { to: { element: { types: { anyOf: [type, ...allowed] } } } },
            })),
            {
              from: { file: { categories: entry.type } },
              allow: { to: { element: { types: { anyOf: entry.allowed } } } },
            },
          ],
        },
      ],
    },
  },
  {
    // Workflow code must be deterministic: it runs in Temporal's sandbox and is replayed. Only
    // @temporalio/workflow and pure modules may be imported; Node built-ins never.
    files: ['src/workflows/**/*.ts', 'src/model/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Node built-ins are not allowed in workflow code.',
          })),
          patterns: [
            {
              group: [
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                '@temporalio/testing',
              ],
              message: 'Workflow code may only import @temporalio/workflow.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() or condition() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'process', message: 'No process access in workflow code.' },
      ],
    },
  },
);
