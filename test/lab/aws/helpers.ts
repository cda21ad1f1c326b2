/**
 * Shared pieces of the lab AWS tests: a lab with a temporary hosts file, kubeha's real AWS
 * activities pointed at the lab's front, a VPC made through the front, and real TCP backends.
 */
import { ModifyTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateSubnetCommand, CreateVpcCommand } from '@aws-sdk/client-ec2';
import { createAwsActivities, defaultAwsClients } from '../../../activities/aws';
import type { AwsClients } from '../../../activities/aws/clients';
import type { AwsActivities } from '../../../activities/types';
import type { AwsSettings } from '../../../common/inputs/shared';
import { loopbackRange, startLabAws, type LabAws, type LabAwsOptions } from '../../../lab/aws';

export const REGION = 'us-east-1';

/** The lines every temporary hosts file starts with, which the lab must leave alone. */
export const HOSTS_PREAMBLE = '127.0.0.1 localhost\n# a comment the lab must keep\n::1 ip6-localhost\n';

/** A lab on a temporary hosts file, with kubeha's activities and clients pointed at its front. */
export interface TestLab {
  lab: LabAws;
  hostsFile: string;
  aws: AwsActivities;
  clients: AwsClients;
  settings: AwsSettings;
  /** The lab's addresses for this test file (third octet `octet`). */
  pool: string[];
  cleanup(): Promise<void>;
}

/**
 * kubeha's worker takes credentials from the SDK's default chain: give that chain dummy ones (the
 * lab's moto accepts any), so the real `defaultAwsClients` factory is what the tests use.
 */
function useDummyCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID ??= 'kubeha-lab-test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'kubeha-lab-test';
}

/** Starts a lab whose load balancer addresses are 127.0.<octet>.1-20 and whose hosts file is a temp file. */
export async function startTestLab(octet: number, options: LabAwsOptions = {}): Promise<TestLab> {
  useDummyCredentials();
  const dir = await mkdtemp(path.join(tmpdir(), 'kubeha-lab-aws-'));
  const hostsFile = path.join(dir, 'hosts');
  await writeFile(hostsFile, HOSTS_PREAMBLE);
  const pool = loopbackRange(`127.0.${octet}`, 1, 20);
  const lab = await startLabAws({ hostsFile, addressPool: pool, pollIntervalMs: 200, ...options });
  const clients = defaultAwsClients({ region: REGION, endpoint: lab.endpoint, subnetIds: ['subnet-0'] });
  const network = await createNetwork(clients, octet);
  const settings: AwsSettings = { region: REGION, endpoint: lab.endpoint, subnetIds: network.subnetIds };
  return {
    lab,
    hostsFile,
    aws: createAwsActivities({ clientsFor: defaultAwsClients, loadBalancerPollSeconds: 1 }),
    clients,
    settings,
    pool,
    cleanup: async () => {
      await lab.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function createNetwork(clients: AwsClients, octet: number): Promise<{ vpcId: string; subnetIds: string[] }> {
  const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: `10.${octet}.0.0/16` }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnetIds: string[] = [];
  for (const [i, zone] of ['a', 'b'].entries()) {
    const subnet = await clients.ec2.send(
      new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.${octet}.${i + 1}.0/24`, AvailabilityZone: `${REGION}${zone}` }),
    );
    subnetIds.push(subnet.Subnet?.SubnetId ?? '');
  }
  return { vpcId, subnetIds };
}

/** The address the hosts file maps the name to, read the way the resolver would. */
export async function addressInHostsFile(hostsFile: string, name: string): Promise<string | undefined> {
  for (const line of (await readFile(hostsFile, 'utf8')).split('\n')) {
    const [address, ...names] = line.trim().split(/\s+/);
    if (!line.trim().startsWith('#') && names.includes(name)) return address;
  }
  return undefined;
}

/** A real TCP server standing in for a kube-apiserver: it greets with its name, then echoes. */
export interface Backend {
  name: string;
  host: string;
  port: number;
  /** Connections accepted so far (health checks included). */
  accepted: number;
  /** Stops listening and closes its connections. */
  close(): Promise<void>;
}

/** Starts a backend on host and a free port; `greet` false makes it a plain echo server. */
export async function startBackend(name: string, host: string, greet = true): Promise<Backend> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    backend.accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    if (greet) socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const backend: Backend = {
    name,
    host,
    port: typeof address === 'object' && address ? address.port : 0,
    accepted: 0,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
  return backend;
}

/** Connects to host:port and reads the first line (a backend's greeting), or the error code. */
export function firstLine(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = '';
    const done = (value: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\n')) done(data.split('\n')[0] as string);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.on('end', () => done(data || 'closed'));
  });
}

/**
 * kubeha's API target group checks HTTPS /readyz; these tests put plain TCP echo backends behind the
 * load balancer, so their group checks TCP, as an NLB does by default.
 */
export async function useTcpHealthChecks(t: TestLab, targetGroupArn: string): Promise<void> {
  await t.clients.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: targetGroupArn, HealthCheckProtocol: 'TCP' }));
  await t.lab.sync();
}
