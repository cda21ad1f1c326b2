/**
 * Backends for the data plane's health-check tests: an HTTPS server with kube-apiserver's `/readyz`
 * behaviour, a bare TCP connect, and a target group's TCP health check as the tests' input gives it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, type Socket } from 'node:net';

/**
 * A self-signed HTTPS server (key and certificate written to `dir`), as kube-apiserver's is to the load
 * balancer (which does not check it): `/readyz` answers `status()`, other paths 404. Resolves once it listens.
 */
export async function startReadyzServer(dir: string, host: string, status: () => number): Promise<HttpsServer> {
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${dir}/key.pem`,
      '-out',
      `${dir}/cert.pem`,
      '-days',
      '1',
      '-subj',
      '/CN=readyz',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  const server = createHttpsServer({ key: await readFile(`${dir}/key.pem`), cert: await readFile(`${dir}/cert.pem`) }, (req, res) => {
    // Like kube-apiserver: /readyz is 200 while etcd has quorum, 500 when not; other paths exist too.
    res.statusCode = req.url === '/readyz' ? status() : 404;
    res.end(status() === 200 ? 'ok' : '[-]etcd failed: reason withheld\nreadyz check failed');
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return server;
}

/** Whether a TCP connection to the address opens (closed at once). */
export function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) =>
    connect({ host, port })
      .once('connect', function (this: Socket) {
        this.destroy();
        resolve(true);
      })
      .once('error', () => resolve(false)),
  );
}

/** A target group's TCP health check, as CreateTargetGroup takes it. */
export function tcpHealthCheckParams(healthCheck: { intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number }) {
  return {
    HealthCheckProtocol: 'TCP' as const,
    HealthCheckIntervalSeconds: healthCheck.intervalSeconds,
    HealthCheckTimeoutSeconds: healthCheck.timeoutSeconds,
    HealthyThresholdCount: healthCheck.healthyThreshold,
    UnhealthyThresholdCount: healthCheck.unhealthyThreshold,
  };
}
