/**
 * kubeha's kubeadm configs and output parsers against the REAL kubeadm (built from the Go modules by
 * lab/build/build-kube.sh): the configs kubeha renders are accepted by kubeadm's strict decoder, and
 * what kubeadm prints parses into the values kubeha put in.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { renderInitConfig, renderJoinConfig } from '../../activities/hosts/kubeadmConfig';
import { parseCertificateKey, parseInitOutput, parseToken } from '../../activities/hosts/kubeadmOutput';
import { caCertHash } from '../../activities/hosts/pki';
import { projectRoot } from '../../lib/paths';

const buildScript = path.join(projectRoot, 'lab', 'build', 'build-kube.sh');
let kubeadm: string;
let work: string;

before(() => {
  // Builds kubeadm on a fresh machine (minutes, once); a no-op when the cached binary answers.
  execFileSync('bash', [buildScript, 'kubeadm'], { stdio: 'inherit' });
  const binDir = execFileSync('bash', [buildScript], { env: { ...process.env, KUBE_PRINT_BIN_DIR: '1' }, encoding: 'utf8' }).trim();
  kubeadm = path.join(binDir, 'kubeadm');
  work = mkdtempSync(path.join(tmpdir(), 'kubeha-kubeadm-'));
});
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function kubeadmOut(...args: string[]): string {
  return execFileSync(kubeadm, args, { encoding: 'utf8' });
}

/** Validates a config file with kubeadm's strict decoder; returns kubeadm's exit code and stderr. */
function validate(config: string): { code: number; stderr: string } {
  const file = path.join(work, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, config, { mode: 0o600 });
  const result = spawnSync(kubeadm, ['config', 'validate', '--config', file], { encoding: 'utf8' });
  return { code: result.status ?? -1, stderr: result.stderr };
}

describe('kubeha against the real kubeadm', { timeout: 900_000 }, () => {
  test('parses the certificate key and token that kubeadm generates', () => {
    const key = parseCertificateKey(kubeadmOut('certs', 'certificate-key'));
    assert.match(key, /^[0-9a-f]{64}$/);
    const token = parseToken(kubeadmOut('token', 'generate'));
    assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
  });

  test("the join configurations kubeha renders pass kubeadm's strict validation", () => {
    const base = {
      kubernetesVersion: '1.37.2',
      nodeName: 'cp-2',
      apiServerEndpoint: 'kube-api-west-1.elb.us-east-1.amazonaws.com:6443',
      token: 'abcdef.0123456789abcdef',
      caCertHash: `sha256:${'4'.repeat(64)}`,
    };
    const controlPlane = validate(renderJoinConfig({ ...base, controlPlane: { certificateKey: 'a'.repeat(64), advertiseAddress: '10.0.1.12' } }));
    assert.equal(controlPlane.code, 0, controlPlane.stderr);
    const worker = validate(renderJoinConfig({ ...base, nodeName: 'worker-1' }));
    assert.equal(worker.code, 0, worker.stderr);
    // The check can fail: kubeadm's decoder refuses a field it does not know.
    const broken = validate(renderJoinConfig(base).replace('kind: JoinConfiguration', 'kind: JoinConfiguration\nbogusField: 1'));
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /unknown field "bogusField"/);
  });

  test("kubeadm init (dry run) accepts kubeha's init config and its output parses back into the same join data", () => {
    const token = parseToken(kubeadmOut('token', 'generate'));
    const certificateKey = parseCertificateKey(kubeadmOut('certs', 'certificate-key'));
    const endpoint = 'kube-api-west-1.elb.us-east-1.amazonaws.com:6443';
    const configFile = path.join(work, 'init.yaml');
    writeFileSync(
      configFile,
      renderInitConfig({
        clusterName: 'west',
        nodeName: 'cp-1',
        advertiseAddress: '10.0.1.11',
        controlPlaneEndpoint: endpoint,
        kubernetesVersion: '1.37.2',
        podSubnet: '192.168.0.0/16',
        serviceSubnet: '10.96.0.0/12',
        token,
        certificateKey,
      }),
      { mode: 0o600 },
    );
    // kubeadm writes under /etc/kubernetes: give it a private one in its own mount namespace, so the
    // machine running the test is not touched. Preflight checks want a container runtime: ignored.
    const etc = path.join(work, 'etc-kubernetes');
    const script = `mkdir -p ${etc} /etc/kubernetes && mount --bind ${etc} /etc/kubernetes && exec ${kubeadm} init --config ${configFile} --upload-certs --dry-run --ignore-preflight-errors=all`;
    const run = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(run.status, 0, run.stderr.slice(-2000));
    const parsed = parseInitOutput(run.stdout);
    assert.equal(parsed.controlPlane?.endpoint, endpoint);
    assert.equal(parsed.controlPlane?.token, token);
    assert.equal(parsed.controlPlane?.certificateKey, certificateKey);
    assert.equal(parsed.worker.endpoint, endpoint);
    assert.equal(parsed.worker.controlPlane, false);
    // The CA hash kubeadm printed is the one kubeha computes from the CA it generated.
    const dryRunDir = path.join(etc, 'tmp', readdirSync(path.join(etc, 'tmp')).find((d) => d.startsWith('kubeadm-init-dryrun')) ?? '');
    assert.equal(parsed.caCertHash, caCertHash(readFileSync(path.join(dryRunDir, 'ca.crt'), 'utf8')));
  });
});
