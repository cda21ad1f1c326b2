/**
 * `kubeha bootstrap` checks its input file before it contacts Temporal. The CLI runs as a child process
 * with TEMPORAL_ADDRESS pointing at a closed port: any attempt to reach Temporal would show up as a
 * "cannot reach" message instead of the validation errors.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bootstrapStackedEtcdInputSchema } from '../../common/inputs/bootstrapStackedEtcd';
import { projectRoot } from '../../lib/paths';
import { readBootstrapInput } from '../../client/commands/bootstrap';
import { CliError } from '../../client/connection';
import { runCli } from './cliProcess';
import { freePort } from '../../lib/freePort';

const examplePath = path.join(projectRoot, 'examples', 'bootstrap-stacked-etcd.json');
const example = (): Record<string, unknown> => JSON.parse(readFileSync(examplePath, 'utf8'));

describe('the example input', () => {
  test('passes the schema, with 3 control planes, 1 spare and 2 workers', () => {
    const parsed = bootstrapStackedEtcdInputSchema.safeParse(example());
    assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.error.issues));
    const roles = parsed.data.hosts.map((h) => h.role);
    assert.deepEqual(
      {
        cp: roles.filter((r) => r === 'control-plane').length,
        spare: roles.filter((r) => r === 'spare-control-plane').length,
        workers: roles.filter((r) => r === 'worker').length,
      },
      { cp: 3, spare: 1, workers: 2 },
    );
    assert.equal(parsed.data.aws.region, 'us-east-1');
    assert.ok(parsed.data.hosts.every((h) => 'file' in h.ssh.privateKey && h.ssh.privateKey.file === '/etc/kubeha/ssh/id_ed25519'));
  });

  test('every field it uses is documented in examples/README.md', () => {
    const readme = readFileSync(path.join(projectRoot, 'examples', 'README.md'), 'utf8');
    const parsed = example();
    for (const key of Object.keys(parsed)) assert.ok(readme.includes(`\`${key}`), `README lacks ${key}`);
  });

  test('readBootstrapInput returns it with its cluster name', () => {
    assert.equal(readBootstrapInput(examplePath).clusterName, 'prod-a');
  });
});

describe('kubeha bootstrap input validation', () => {
  let dir: string;
  let closedAddress: string;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kubeha-cli-input-'));
    closedAddress = `127.0.0.1:${await freePort()}`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, content: unknown): string {
    const file = path.join(dir, name);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  }

  test('a file breaking the schema exits 2 and names every bad field, without contacting Temporal', async () => {
    const input = example() as { clusterName: string; hosts: { ssh: { port: number } }[]; aws: { region: string }; extra?: boolean };
    input.clusterName = 'Prod_A';
    input.hosts[1].ssh.port = 70000;
    input.aws.region = 'mars';
    input.extra = true;
    const run = await runCli(['bootstrap', '-f', write('bad.json', input)], { TEMPORAL_ADDRESS: closedAddress });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /is not a valid BootstrapStackedEtcd input; nothing was started/);
    assert.match(run.stderr, /^ {2}clusterName: must be a DNS-1123 label/m);
    assert.match(run.stderr, /^ {2}hosts\[1\]\.ssh\.port: /m);
    assert.match(run.stderr, /^ {2}aws\.region: must be an AWS region like "us-east-1"/m);
    assert.match(run.stderr, /^ {2}\(input\): unknown field\(s\) "extra"/m);
    assert.doesNotMatch(run.stderr, /cannot reach Temporal/);
  });

  test('a file without control-plane hosts is refused with the rule', async () => {
    const input = example() as { hosts: { role: string }[] };
    for (const host of input.hosts) host.role = 'worker';
    const run = await runCli(['bootstrap', '-f', write('no-cp.json', input)], { TEMPORAL_ADDRESS: closedAddress });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^ {2}hosts: needs at least one host with role "control-plane"/m);
  });

  test('a file that is not JSON exits 2 and says so', async () => {
    const run = await runCli(['bootstrap', '-f', write('broken.json', '{"clusterName": ')], { TEMPORAL_ADDRESS: closedAddress });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /broken\.json is not valid JSON/);
  });

  test('a missing file exits 2 and names it', async () => {
    const run = await runCli(['bootstrap', '-f', path.join(dir, 'absent.json')], { TEMPORAL_ADDRESS: closedAddress });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /cannot read .*absent\.json: ENOENT/);
  });

  test('without -f the command line is refused with exit code 2', async () => {
    const run = await runCli(['bootstrap']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /required option '-f, --file <input.json>'/);
  });

  test('a valid file gets past validation and then reports an unreachable Temporal clearly', async () => {
    const run = await runCli(['bootstrap', '-f', examplePath], { TEMPORAL_ADDRESS: closedAddress });
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`cannot reach Temporal at ${closedAddress.replace('.', '\\.')}.*start it with \`kubeha dev\` or set TEMPORAL_ADDRESS`));
  });

  test('readBootstrapInput throws a CliError with exit code 2', () => {
    assert.throws(
      () => readBootstrapInput(write('empty.json', {})),
      (err: unknown) => err instanceof CliError && err.exitCode === 2 && /clusterName: /.test(err.message),
    );
  });
});
