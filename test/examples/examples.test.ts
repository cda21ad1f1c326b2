/**
 * Every file in examples/ is what a user pastes first: each must pass its workflow's schema (or, for the
 * webhook's routing file, the webhook's), every workflow the worker registers for users must have one,
 * and a copy broken in one field must be refused with that field named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { webhookConfigSchema } from '../../common/inputs/webhookRoutes';
import { backupEtcdInputSchema } from '../../common/inputs/backupEtcd';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { failoverToEastInputSchema } from '../../common/inputs/failoverToEast';
import { linkMeshClustersInputSchema } from '../../common/inputs/linkMeshClusters';
import { recoverControlPlaneInputSchema } from '../../common/inputs/recoverControlPlane';
import { rotateCertificateKeyInputSchema } from '../../common/inputs/rotateCertificateKey';
import { inputIssues } from '../../common/validation';
import { projectRoot } from '../../lib/paths';
import * as workflows from '../../workflows';

const examplesDir = path.join(projectRoot, 'examples');

/** Each example, its schema, and one field set to a value that breaks a rule (the field must be named). */
const EXAMPLES: Array<{ file: string; workflow?: string; schema: z.ZodType; field: string; value: unknown }> = [
  { file: 'bootstrap-stacked-etcd.json', workflow: 'BootstrapStackedEtcd', schema: bootstrapStackedEtcdInputSchema, field: 'hosts[2].ssh.port', value: 70_000 },
  {
    file: 'rotate-certificate-key.json',
    workflow: 'RotateCertificateKey',
    schema: rotateCertificateKeyInputSchema,
    field: 'keepKeyUploadedWithinMinutes',
    value: 180,
  },
  {
    file: 'link-mesh-clusters.json',
    workflow: 'LinkMeshClusters',
    schema: linkMeshClustersInputSchema,
    field: 'west.kubeconfig.file',
    value: 'relative/west.kubeconfig',
  },
  { file: 'failover-to-east.json', workflow: 'FailoverToEast', schema: failoverToEastInputSchema, field: 'steps', value: [50, 25] },
  { file: 'backup-etcd.json', workflow: 'BackupEtcd', schema: backupEtcdInputSchema, field: 'store.prefix', value: 'kubeha/etcd' },
  {
    file: 'recover-control-plane.json',
    workflow: 'RecoverControlPlane',
    schema: recoverControlPlaneInputSchema,
    field: 'precheck.intervalSeconds',
    value: 1,
  },
  { file: 'webhook-routes.yaml', schema: webhookConfigSchema, field: 'routes[0].matchers[0]', value: 'alertname~WestDown' },
];

function load(file: string): unknown {
  const text = readFileSync(path.join(examplesDir, file), 'utf8');
  return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
}

/** Sets `a.b[2].c` in a parsed document (every part on the way must exist). */
function setPath(document: unknown, fieldPath: string, value: unknown): void {
  const parts = fieldPath.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '');
  let node = document as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    node = node[part] as Record<string, unknown>;
    assert.ok(node && typeof node === 'object', `${fieldPath}: ${part} exists in the example`);
  }
  node[parts[parts.length - 1]] = value;
}

for (const example of EXAMPLES) {
  test(`${example.file} passes its schema`, () => {
    const parsed = example.schema.safeParse(load(example.file));
    assert.ok(
      parsed.success,
      parsed.success
        ? ''
        : inputIssues(parsed.error)
            .map((i) => `${i.path}: ${i.message}`)
            .join('\n'),
    );
  });

  test(`${example.file} broken in ${example.field} is refused naming that field`, () => {
    const document = load(example.file);
    setPath(document, example.field, example.value);
    const parsed = example.schema.safeParse(document);
    assert.equal(parsed.success, false);
    const paths = parsed.success ? [] : inputIssues(parsed.error).map((i) => i.path);
    assert.ok(paths.includes(example.field), `refused for ${paths.join(', ')}`);
  });
}

test('every file in examples/ is checked here, and every workflow a user starts has an example', () => {
  const files = readdirSync(examplesDir)
    .filter((f) => f !== 'README.md')
    .sort();
  assert.deepEqual(files, EXAMPLES.map((e) => e.file).sort());
  // ClusterLock is internal: kubeha's own runs start it, never a user.
  const userWorkflows = Object.keys(workflows)
    .filter((name) => /^[A-Z]/.test(name) && name !== 'ClusterLock')
    .sort();
  assert.deepEqual(EXAMPLES.flatMap((e) => (e.workflow ? [e.workflow] : [])).sort(), userWorkflows);
});

test('examples/README.md documents every example', () => {
  const readme = readFileSync(path.join(examplesDir, 'README.md'), 'utf8');
  for (const { file } of EXAMPLES) assert.match(readme, new RegExp(`^## ${file.replace(/\./g, '\\.')}$`, 'm'), `a section for ${file}`);
});
