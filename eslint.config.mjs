// Lint rules that matter for Temporal: workflow code runs in a deterministic sandbox, so it may not
// import Node built-ins or activity implementations (types only). And the project's boundaries:
// workflows see only common/ and activity types; activities never reach the CLI or the lab; the lab
// reproduces the real tools and never borrows kubeha's code, so a kubeha defect cannot hide in it.
import tseslint from 'typescript-eslint';

/**
 * Import patterns that name top-level folders of the project from a file `depth` folders below the
 * root (a relative import has to climb exactly that far to reach them).
 */
function topLevel(depth, folders, message, extra = {}) {
  return { regex: `^(\\.\\./){${depth}}(${folders.join('|')})(/|$)`, message, ...extra };
}

/** One config block per folder depth under `root`, each forbidding `rules(depth)`. */
function boundary(root, rules) {
  return [1, 2, 3, 4, 5].map((depth) => ({
    files: [`${root}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: rules(depth) }] },
  }));
}

const labMessage = "The lab reproduces the real tools: its names, schemas and clients are its own, never kubeha's.";

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'path',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'worker_threads',
  'zlib',
];

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
            // No folder under workflows/ or common/ bears these names, so any depth of "../" means the root's.
            { regex: '^(\\.\\./)+(client|lab|lib|worker|bench|test)(/|$)', message: 'Workflows and common/ import only common/ and activity types.' },
          ],
        },
      ],
      'no-console': 'error',
    },
  },
  ...boundary('activities', (depth) => [
    topLevel(depth, ['client', 'lab', 'workflows', 'worker'], 'Activities never import the CLI, the lab, workflows or the worker.'),
  ]),
  ...boundary('lab', (depth) => [topLevel(depth, ['activities', 'workflows', 'client', 'worker'], labMessage)]),
  // The emulations (kubeadm, kubelet, AWS, hosts, Debian tools, the mesh) run nothing of kubeha's; they may
  // name kubeha's input types (what they hand kubeha). Only the orchestrator, which writes kubeha's inputs
  // for the lab, reads kubeha's input schemas.
  ...['kube', 'mesh', 'aws', 'hosts', 'tools'].flatMap((folder) =>
    [2, 3, 4].map((depth) => ({
      files: [`lab/${folder}/${'*/'.repeat(depth - 2)}*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          {
            patterns: [
              topLevel(depth, ['activities', 'workflows', 'client', 'worker'], labMessage),
              topLevel(depth, ['common'], "A lab emulation may name kubeha's input types, never run kubeha's code.", { allowTypeImports: true }),
            ],
          },
        ],
      },
    })),
  ),
);
