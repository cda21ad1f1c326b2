/**
 * Every command whose output carries a secret (a new certificate key, a new or listed bootstrap token,
 * the key upload-certs echoes) is marked so that output never streams into heartbeats or logs: either
 * `secretOutput` (the secret is new, nobody can name it beforehand) or `redact` naming it. Checked over
 * a whole init and credential refresh on the fake hosts, for every secret the fake handed out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHostActivities } from '../../activities/hosts';
import type { CommandResult, RemoteCommand, RemoteShell } from '../../activities/ssh/types';
import type { HostSpec } from '../../common/inputs/shared';
import { FakeHostShell, makeCaPem, MemorySecretStore } from './fakeHostShell';

const ssh = { user: 'root', port: 22, privateKey: { file: '/dev/null' }, trustOnFirstUse: true, connectTimeoutSeconds: 5 };
const cpA: HostSpec = { name: 'cp-a', address: '10.20.1.11', role: 'control-plane', ssh };

/** The fake hosts, with every command and what it printed kept for the check. */
function recordingShell(fake: FakeHostShell): { shell: RemoteShell; runs: Array<{ cmd: RemoteCommand; result: CommandResult }> } {
  const runs: Array<{ cmd: RemoteCommand; result: CommandResult }> = [];
  const record = async (result: Promise<CommandResult>, cmd: RemoteCommand) => {
    const done = await result;
    runs.push({ cmd, result: done });
    return done;
  };
  const shell: RemoteShell = {
    run: (host, cmd) => record(fake.run(host, cmd), cmd),
    runChecked: (host, cmd) => record(fake.runChecked(host, cmd), cmd),
    writeFile: (host, path, content, mode) => fake.writeFile(host, path, content, mode),
    readFile: (host, path) => fake.readFile(host, path),
    close: () => fake.close(),
  };
  return { shell, runs };
}

test('no command prints a secret without secretOutput or a redact naming it', async () => {
  const now = new Date('2025-02-03T10:00:00Z');
  const fake = new FakeHostShell(makeCaPem(), () => now);
  const { shell, runs } = recordingShell(fake);
  const secrets = new MemorySecretStore();
  const hosts = createHostActivities({ shell, secrets, now: () => now });
  const init = await hosts.kubeadmInit({
    clusterName: 'lab',
    host: cpA,
    controlPlaneEndpoint: 'lb.example:6443',
    kubernetesVersion: '1.31.2',
    podCidr: '192.168.0.0/16',
    serviceCidr: '10.96.0.0/12',
  });
  await hosts.refreshJoinCredentials({ clusterName: 'lab', host: cpA, current: init.join, refreshToken: true, refreshCertificateKey: true });

  const handedOut = new Set<string>(
    [...fake.issuedSecrets, ...[...fake.tokens.values()].map((t) => t.token), ...secrets.values.values()].filter((v) => v.length >= 16 && !v.includes('\n')),
  );
  assert.ok(handedOut.size >= 3, `the flow handed out keys and tokens (${handedOut.size})`);
  let printedSecrets = 0;
  for (const { cmd, result } of runs) {
    for (const secret of handedOut) {
      if (!result.stdout.includes(secret)) continue;
      printedSecrets += 1;
      assert.ok(
        cmd.secretOutput === true || cmd.redact?.includes(secret),
        `"${cmd.label ?? cmd.command}" prints a secret but neither marks its output secret nor redacts it`,
      );
    }
  }
  assert.ok(printedSecrets >= 3, `the check saw commands printing secrets (${printedSecrets}): it cannot pass empty`);
});
