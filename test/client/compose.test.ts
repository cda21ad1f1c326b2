/**
 * The Docker Compose deployment, checked as data (there is no Docker engine here): the services and
 * their start order, the ports, the volumes, and that the worker gets exactly the settings the code reads.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { searchAttributeArgs } from '../../client/devServer';
import { SEARCH_ATTRIBUTES } from '../../common/searchAttributes';
import { requireSharedKeys } from '../../lib/codec/keyring';
import { temporalSettings } from '../../lib/config';
import { dataDir, projectRoot } from '../../lib/paths';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  entrypoint?: string[];
  command?: string[];
  deploy?: { replicas?: number };
  secrets?: string[];
}

/** The secret store settings agreed for shared stores (read by activities/secrets). */
const SECRET_STORE_SETTINGS = ['KUBEHA_SECRET_STORE', 'KUBEHA_SECRET_STORE_PREFIX', 'KUBEHA_SECRET_STORE_NAMESPACE', 'KUBEHA_SECRET_STORE_KUBECONFIG'];

const compose = parse(readFileSync(path.join(projectRoot, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
  secrets?: Record<string, { file?: string }>;
};
const services = compose.services;

/** The environment variable names a function reads, found by handing it an env that records look-ups. */
function envNamesRead(read: (env: NodeJS.ProcessEnv) => unknown): string[] {
  const names = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, key) => {
      if (typeof key === 'string') names.add(key);
      return undefined;
    },
  });
  read(env);
  return [...names].sort();
}

describe('docker-compose.yml', () => {
  test('has PostgreSQL 16, Temporal, the search-attribute job, the Web UI and the worker', () => {
    assert.deepEqual(Object.keys(services).sort(), [
      'kubeha-codec-server',
      'kubeha-webhook',
      'kubeha-worker',
      'postgresql',
      'temporal',
      'temporal-search-attributes',
      'temporal-ui',
    ]);
    assert.equal(services.postgresql.image, 'postgres:16');
    assert.match(services.temporal.image ?? '', /^temporalio\/auto-setup:/);
    assert.match(services['temporal-ui'].image ?? '', /^temporalio\/ui:/);
    assert.match(services['temporal-search-attributes'].image ?? '', /^temporalio\/admin-tools:/);
    assert.deepEqual(services['kubeha-worker'].build, { context: '.', dockerfile: 'Dockerfile' });
  });

  test('Temporal persists in PostgreSQL with the same password on both sides', () => {
    const env = services.temporal.environment ?? {};
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.equal(env.POSTGRES_USER, services.postgresql.environment?.POSTGRES_USER);
    assert.equal(env.POSTGRES_PWD, services.postgresql.environment?.POSTGRES_PASSWORD);
  });

  test('starts in order of health: database, Temporal, search attributes, then the worker', () => {
    assert.deepEqual(services.temporal.depends_on, { postgresql: { condition: 'service_healthy' } });
    assert.deepEqual(services['temporal-search-attributes'].depends_on, { temporal: { condition: 'service_healthy' } });
    assert.deepEqual(services['temporal-ui'].depends_on, { temporal: { condition: 'service_healthy' } });
    assert.deepEqual(services['kubeha-worker'].depends_on, {
      temporal: { condition: 'service_healthy' },
      'temporal-search-attributes': { condition: 'service_completed_successfully' },
    });
    for (const name of ['postgresql', 'temporal', 'temporal-ui']) assert.ok(services[name].healthcheck?.test?.length, `${name} has a healthcheck`);
    assert.match(services.postgresql.healthcheck!.test.join(' '), /pg_isready/);
    assert.match(services.temporal.healthcheck!.test.join(' '), /temporal operator namespace describe --namespace default/);
  });

  test('publishes the frontend on 7233 and the Web UI on 8233, like `kubeha dev`, on 127.0.0.1 only', () => {
    assert.deepEqual(services.temporal.ports, ['127.0.0.1:7233:7233']);
    assert.deepEqual(services['temporal-ui'].ports, ['127.0.0.1:8233:8080']);
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name} publishes ${port} beyond this machine`);
    }
    const ui = services['temporal-ui'].environment ?? {};
    assert.equal(ui.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(ui.TEMPORAL_CORS_ORIGINS, 'http://localhost:8233');
  });

  test('keeps PostgreSQL data and kubeha data on named volumes', () => {
    assert.deepEqual(Object.keys(compose.volumes).sort(), ['kubeha-data', 'postgres-data']);
    assert.ok(services.postgresql.volumes?.includes('postgres-data:/var/lib/postgresql/data'));
    const workerEnv = services['kubeha-worker'].environment ?? {};
    assert.ok(services['kubeha-worker'].volumes?.includes(`kubeha-data:${workerEnv.KUBEHA_DATA_DIR}`));
    assert.equal(dataDir(workerEnv), '/var/lib/kubeha', 'the code reads the data dir the volume holds');
    assert.ok(
      services['kubeha-worker'].volumes?.some((v) => /:\/etc\/kubeha\/ssh:ro$/.test(v)),
      'the SSH key directory is mounted read-only',
    );
  });

  test('gives the worker every setting lib/config.ts and lib/paths.ts read, and none they ignore', () => {
    const sharedKeys = (env: NodeJS.ProcessEnv) => {
      try {
        requireSharedKeys('probe', env);
      } catch {
        // Only the names it reads matter here.
      }
    };
    const read = [...new Set([...envNamesRead(temporalSettings), ...envNamesRead(dataDir), ...envNamesRead(sharedKeys), ...SECRET_STORE_SETTINGS])];
    for (const name of ['KUBEHA_CODEC_KEYS', 'KUBEHA_CODEC_KEY_FILE']) assert.ok(read.includes(name), `the probe sees ${name}`);
    for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'KUBEHA_TASK_QUEUE', 'KUBEHA_DATA_DIR'])
      assert.ok(read.includes(name), `the probe sees ${name}`);
    const workerEnv = services['kubeha-worker'].environment ?? {};
    // The keys come from the mounted file alone: an inline KUBEHA_CODEC_KEYS is not passed through to override it.
    for (const name of read.filter((n) => !SECRET_STORE_SETTINGS.includes(n) && n !== 'KUBEHA_CODEC_KEYS'))
      assert.ok(name in workerEnv, `worker environment sets ${name}`);
    assert.ok(!('KUBEHA_CODEC_KEYS' in workerEnv), 'no inline keys beside the key file');
    const kubehaNames = Object.keys(workerEnv).filter((n) => /^(KUBEHA|TEMPORAL)_/.test(n));
    for (const name of kubehaNames) assert.ok(read.includes(name), `${name} is read by the code`);
    assert.deepEqual(temporalSettings(workerEnv), {
      address: 'temporal:7233',
      namespace: 'default',
      taskQueue: 'kubeha',
      uiUrl: 'http://localhost:8233',
    });
  });

  test('two worker replicas, the webhook and the codec server share one configuration, one key file and one secret store', () => {
    const worker = services['kubeha-worker'];
    assert.equal(worker.deploy?.replicas, 2);
    for (const name of ['kubeha-webhook', 'kubeha-codec-server']) {
      assert.deepEqual(services[name].environment, worker.environment, `${name} has the worker's settings`);
      assert.deepEqual(services[name].secrets, ['kubeha-codec-keys']);
      assert.equal(services[name].image, worker.image);
    }
    assert.deepEqual(worker.secrets, ['kubeha-codec-keys']);
    const env = worker.environment ?? {};
    assert.equal(env.KUBEHA_CODEC_KEY_FILE, '/run/secrets/kubeha-codec-keys', 'keys from the mounted file');
    assert.doesNotThrow(
      () => requireSharedKeys('the worker', { ...env, KUBEHA_DATA_DIR: path.join(projectRoot, 'no-such-dir') }),
      'the worker starts outside kubeha dev',
    );
    // deploy/codec/keys (deploy/README.md says how to make it), a file git ignores.
    assert.match(compose.secrets?.['kubeha-codec-keys']?.file ?? '', /^\$\{KUBEHA_CODEC_KEY_FILE:-\.\/deploy\/codec\/keys\}$/);
    assert.match(readFileSync(path.join(projectRoot, 'deploy', 'codec', '.gitignore'), 'utf8'), /^\*$/m);
    assert.match(env.KUBEHA_SECRET_STORE ?? '', /aws-secrets-manager/, 'a store the replicas share, not the local files');
    assert.deepEqual(services['kubeha-webhook'].command?.slice(2, 3), ['webhook']);
    assert.deepEqual(services['kubeha-codec-server'].command?.slice(2, 3), ['codec-server']);
  });

  test('registers exactly kubeha search attributes, with their types, in the namespace the worker uses', () => {
    const job = services['temporal-search-attributes'];
    assert.deepEqual(job.command, searchAttributeArgs());
    assert.deepEqual(
      job.command?.map((pair) => pair.split('=')[0]),
      Object.values(SEARCH_ATTRIBUTES).map((key) => key.name),
    );
    assert.equal(job.environment?.TEMPORAL_NAMESPACE, services['kubeha-worker'].environment?.TEMPORAL_NAMESPACE);
    const script = job.volumes?.find((v) => v.startsWith('./deploy/register-search-attributes.sh:'));
    assert.ok(script, 'the registration script is mounted');
    assert.ok(job.entrypoint?.includes(script.split(':')[1]), 'and is the entrypoint');
    assert.match(readFileSync(path.join(projectRoot, 'deploy', 'register-search-attributes.sh'), 'utf8'), /temporal operator search-attribute create/);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(path.join(projectRoot, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages = instructions.filter((l) => /^FROM /i.test(l));
  const finalStage = instructions.slice(instructions.lastIndexOf(stages[stages.length - 1]));

  test('builds and runs on Node 26, the current LTS', () => {
    assert.ok(stages.length > 0);
    for (const from of stages) assert.match(from, /^FROM node:26(-[a-z]+)?( AS \w+)?$/i);
  });

  test('installs from the lock file and compiles', () => {
    // npm install keeps the lock's versions; npm ci refuses this lock file (scripts/setup.sh says why).
    assert.ok(instructions.some((l) => /^RUN npm install\b/.test(l)));
    assert.ok(!instructions.some((l) => /\bnpm ci\b/.test(l)));
    assert.ok(instructions.some((l) => /^RUN .*npm run build/.test(l)));
  });

  test('runs the worker as a non-root user, with KUBEHA_DATA_DIR on a volume', () => {
    const user = finalStage.filter((l) => /^USER /.test(l)).pop();
    assert.ok(user && !/^USER (root|0)(:|$)/.test(user), `final USER is not root: ${user}`);
    const cmd = finalStage.filter((l) => /^CMD /.test(l)).pop();
    assert.deepEqual(JSON.parse(cmd!.slice(4)), ['node', 'bin/kubeha.js', 'worker']);
    assert.match(finalStage.join('\n'), /KUBEHA_DATA_DIR=\/var\/lib\/kubeha/);
    assert.ok(finalStage.some((l) => l === 'VOLUME ["/var/lib/kubeha"]'));
  });

  test('.dockerignore keeps local builds, virtualenvs and SSH keys out of the build context', () => {
    const ignored = readFileSync(path.join(projectRoot, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['node_modules', 'dist', '.venv', '.kubeha', '.git', 'deploy/ssh']) assert.ok(ignored.includes(entry), `${entry} ignored`);
  });
});
