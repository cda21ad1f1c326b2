/**
 * The rotation end to end's closing scan (rotation.test.ts): every certificate key and bootstrap token
 * seen during the run, the lab's key material and the stored kubeconfig's client credentials, searched in
 * every run's decoded history, the worker's whole output and every host's command log. Each kind of
 * source is first shown to hold what IS there (a control), so an empty result means something.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { REMOTE } from '../../../activities/hosts/context';
import type { BootstrapStackedEtcdInput } from '../../../common/inputs/bootstrapStackedEtcd';
import { readCommandLog } from '../../../lab/hosts';
import { labHostPaths } from '../../../lab/hosts/layout';
import { findSecrets, type SecretValue } from '../../support/secretScan';
import { decodedHistoriesWithControl, labKeyMaterial, tokenSecrets, type WorkerProcess } from './rotationSupport';

/** What the scan reads and where it reports its figures. */
export interface ScanSources {
  input: BootstrapStackedEtcdInput;
  labDir: string;
  /** Certificate keys seen (value → when), bootstrap tokens seen (value → where). */
  certificateKeys: Map<string, string>;
  tokens: Map<string, string>;
  /** The admin kubeconfig as the secret store holds it. */
  kubeconfig: string;
  /** A client with the worker's data converter, and where the CLI would reach Temporal. */
  client: Client;
  target: Parameters<typeof decodedHistoriesWithControl>[1];
  worker: WorkerProcess;
  workerLog: string;
  figures: Record<string, number | string>;
}

/** Runs the scan; fails naming every secret found and where. */
export async function scanEverySource({
  input,
  labDir,
  certificateKeys,
  tokens,
  kubeconfig,
  client,
  target,
  worker,
  workerLog,
  figures,
}: ScanSources): Promise<void> {
  const started = Date.now();
  const hostNames = input.hosts.map((h) => h.name);
  const secrets: SecretValue[] = [
    ...[...certificateKeys].map(([value, when]) => ({ label: `certificate key (${when})`, value })),
    ...[...tokens].flatMap(([value, where]) => tokenSecrets(value, where)),
    ...labKeyMaterial(labDir, hostNames),
  ];
  for (const m of kubeconfig.matchAll(/(client-key-data|client-certificate-data):\s*(\S+)/g))
    secrets.push({ label: `admin kubeconfig in the secret store: ${m[1]}`, value: m[2] });

  // The scan would be empty-handed with nothing to look for: it has every kind of secret.
  assert.equal(certificateKeys.size, 3, 'the bootstrap key and two rotated keys');
  assert.ok(tokens.size >= 1, 'at least the join token');
  const labels = secrets.map((s) => s.label);
  assert.ok(labels.includes('lab ssh id_ed25519'), `the SSH client key is searched: ${labels.join(', ')}`);
  for (const cp of input.hosts.filter((h) => h.role === 'control-plane')) {
    for (const key of ['pki/ca.key', 'pki/etcd/ca.key', 'pki/sa.key', 'pki/front-proxy-ca.key'])
      assert.ok(labels.includes(`${cp.name}:/etc/kubernetes/${key}`), `${cp.name}'s ${key} is searched`);
    assert.ok(labels.includes(`${cp.name}:/etc/kubernetes/admin.conf client-key-data`), `${cp.name}'s admin.conf client key is searched`);
  }
  assert.ok(labels.some((l) => l.startsWith('admin kubeconfig in the secret store: client-key-data')));

  // Every run, as the CLI shows it to an operator, each payload decoded with the worker's keys (a control
  // value planted in an encrypted payload proves the decoding sees what the encryption hides).
  const histories = await decodedHistoriesWithControl(client, target);
  const types = new Set(histories.map((h) => h.workflowType));
  for (const type of ['BootstrapStackedEtcd', 'RotateCertificateKey', 'ClusterLock'])
    assert.ok(types.has(type), `the list holds ${type} runs: ${[...types].join(', ')}`);
  assert.ok(histories.length >= 5, `every run is listed: ${histories.map((h) => h.workflowId).join(', ')}`);
  for (const h of histories) assert.ok(h.events > 0, `${h.workflowId} has a history`);
  const output = worker.output();
  assert.equal(readFileSync(workerLog, 'utf8'), output, 'the worker output kept on disk is all of it');
  assert.ok(output.split('\n').length > 100, 'the worker logged its work');
  const commandLogs = hostNames.map((name) => {
    const entries = readCommandLog(labHostPaths(labDir, name).commandsLog);
    assert.ok(entries.length > 0, `${name} received commands`);
    return { source: `${name} commands.log`, texts: entries.map((e) => e.command) };
  });
  const sources = [
    ...histories.map((h) => ({ source: `history of ${h.workflowId} (${h.runId})`, texts: h.texts })),
    { source: 'worker output', texts: [output] },
    ...commandLogs,
  ];

  // The scan finds what IS there, in each kind of source.
  const historiesOnly = sources.filter((s) => s.source.startsWith('history of'));
  assert.ok(
    findSecrets(historiesOnly, [{ label: 'cluster name', value: input.clusterName, minLength: 1 }]).length > 0,
    'the cluster name (a search attribute) is found in the histories',
  );
  assert.ok(
    findSecrets([{ source: 'worker output', texts: [output] }], [{ label: 'workflow id', value: 'rotation-2-first-down' }]).length > 0,
    'a workflow id is found in the worker output',
  );
  assert.ok(
    findSecrets(commandLogs, [{ label: 'upload config path', value: REMOTE.uploadCertsConfig }]).length > 0,
    "kubeha's upload-certs config path is found in the command logs",
  );

  const findings = findSecrets(sources, secrets);
  figures.secretsSearched = secrets.length;
  figures.runsScanned = histories.length;
  figures.workerOutputLines = output.split('\n').length;
  figures.commandsScanned = commandLogs.reduce((n, l) => n + l.texts.length, 0);
  figures.scanMs = Date.now() - started;
  assert.deepEqual(findings, [], `secret values found:\n${findings.map((f) => `${f.label} (${f.form}) in ${f.source}`).join('\n')}`);
}
