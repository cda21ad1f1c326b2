/**
 * Step names and descriptions are written once, in the workflows' step tables: the README's tables,
 * `kubeha steps` and each verb's help are made from them, and the step names match the inputs' lists
 * (what onlySteps / skipSteps accept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { documentedWorkflows, STEP_TABLES, stepsHelp, stepsMarkdown, withStepTables } from '../../client/stepDocs';
import { BOOTSTRAP_STEPS } from '../../common/inputs/bootstrapStackedEtcd';
import { FAILOVER_STEPS } from '../../common/inputs/failoverToEast';
import { MESH_STEPS } from '../../common/inputs/linkMeshClusters';
import { ROTATION_STEPS } from '../../common/inputs/rotateCertificateKey';
import { BACKUP_STEPS } from '../../common/inputs/backupEtcd';
import { RECOVER_STEPS } from '../../common/inputs/recoverControlPlane';
import { projectRoot } from '../../lib/paths';
import { runCli } from './cliProcess';

const readme = () => readFileSync(path.join(projectRoot, 'README.md'), 'utf8');

test("the README carries every workflow's table, as the tables make it (node dist/client/stepDocs.js --write README.md)", () => {
  const text = readme();
  assert.deepEqual(documentedWorkflows(text).sort(), Object.keys(STEP_TABLES).sort());
  assert.equal(withStepTables(text), text, 'the README step tables are out of date: node dist/client/stepDocs.js --write README.md');
});

test('a table refresh replaces only what is between the markers, empty blocks included', () => {
  const text = 'before\n<!-- steps:FailoverToEast -->\n<!-- /steps -->\nmiddle\n<!-- steps:RotateCertificateKey -->\nold\n<!-- /steps -->\nafter\n';
  const out = withStepTables(text);
  assert.match(out, /^before\n<!-- steps:FailoverToEast -->\n\| step \| what it does \|/);
  assert.match(out, /\n<!-- \/steps -->\nmiddle\n<!-- steps:RotateCertificateKey -->\n\| step/);
  assert.doesNotMatch(out, /\nold\n/);
  assert.match(out, /<!-- \/steps -->\nafter\n$/);
  assert.equal(withStepTables(out), out);
});

test('the tables name exactly the steps each input accepts, in order', () => {
  const inputs: Record<string, readonly string[]> = {
    BootstrapStackedEtcd: BOOTSTRAP_STEPS,
    LinkMeshClusters: MESH_STEPS,
    RotateCertificateKey: ROTATION_STEPS,
    FailoverToEast: FAILOVER_STEPS,
    BackupEtcd: BACKUP_STEPS,
    RecoverControlPlane: RECOVER_STEPS,
  };
  for (const [workflow, steps] of Object.entries(STEP_TABLES)) {
    assert.deepEqual(
      steps.map((s) => s.name),
      [...inputs[workflow]],
      workflow,
    );
    for (const s of steps) assert.ok(s.description.length > 20, `${workflow} ${s.name} is described`);
    assert.equal(stepsMarkdown(workflow).split('\n').length, steps.length + 2);
  }
});

test("kubeha steps and the verbs' help show the steps, within 80 columns", async () => {
  for (const line of stepsHelp('BootstrapStackedEtcd').split('\n')) assert.ok(line.length <= 80, line);
  const all = await runCli(['steps']);
  assert.equal(all.code, 0, all.stderr);
  for (const workflow of Object.keys(STEP_TABLES)) assert.match(all.stdout, new RegExp(`^Steps of ${workflow} `, 'm'));
  const help = await runCli(['failover', 'start', '--help']);
  assert.match(help.stdout, /Steps of FailoverToEast .*\n {2}precheck\n/);
  const bad = await runCli(['steps', 'Nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no workflow "Nope"; one of /);
});
