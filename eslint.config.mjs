// Lint rules that matter for Temporal: workflow code runs in a deterministic sandbox, so it may not
// import Node built-ins or activity implementations (types only).
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http', 'https', 'net', 'os', 'path', 'process', 'readline', 'stream', 'timers', 'tls', 'url', 'util', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['dist/**', '.out/**', 'dist-*/**', 'node_modules/**', '.venv/**', '.kubeha/**', '.cache/**', 'bin/**', 'scripts/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [
            { name, message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.' },
            { name: `node:${name}`, message: 'Workflow code runs in a deterministic sandbox: no Node built-ins.' },
          ]),
          patterns: [
            { group: ['**/activities/*', '!**/activities/types'], allowTypeImports: true, message: 'Workflows import activity types only.' },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
);
