/**
 * A real moto_server for tests: started from the project's virtualenv on 127.0.0.1 and a free
 * port, with dummy credentials and helpers to build a VPC with subnets through the EC2 API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../activities/aws/clients';
import type { AwsSettings } from '../../common/inputs/shared';
import { findTool } from '../../lib/paths';

/** The region every moto test uses. */
export const MOTO_REGION = 'us-east-1';

/** Dummy credentials: moto accepts any. */
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** A VPC and its subnets, made in moto. */
export interface MotoNetwork {
  vpcId: string;
  subnetIds: string[];
}

/** A running moto_server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  region: string;
  /** Forgets every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  /** SDK clients pointed at this server with dummy credentials. */
  clients(): AwsClients;
  /** A client factory for `createAwsActivities` that always answers with {@link clients}. */
  clientsFor(aws: AwsSettings): AwsClients;
  /** Creates a VPC (10.N.0.0/16) with two subnets in two availability zones. */
  createNetwork(cidrSecondOctet?: number): Promise<MotoNetwork>;
  /** AwsSettings for the network, pointed at this server. */
  settingsFor(network: MotoNetwork): AwsSettings;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode} before it answered`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${timeoutMs} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killed = await Promise.race([exited.then(() => true), delay(5000).then(() => false)]);
  if (!killed) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Starts moto_server and waits until it answers. Call `stop()` in `after`. */
export async function startMoto(): Promise<MotoServer> {
  const executable = findTool('moto_server', 'MOTO_SERVER_PATH');
  let lastError: unknown;
  // A free port can be taken between the probe and moto's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    try {
      await waitUntilAnswering(endpoint, child, 30_000);
      return motoServer(endpoint, child);
    } catch (err) {
      lastError = new Error(`${(err as Error).message}\n${stderr}`);
      await stopChild(child);
    }
  }
  throw lastError;
}

function motoServer(endpoint: string, child: ChildProcess): MotoServer {
  const config = { region: MOTO_REGION, endpoint, credentials: MOTO_CREDENTIALS };
  const clients: AwsClients = { elbv2: new ElasticLoadBalancingV2Client(config), ec2: new EC2Client(config) };
  let networks = 0;
  return {
    endpoint,
    region: MOTO_REGION,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
    clients: () => clients,
    clientsFor: () => clients,
    async createNetwork(cidrSecondOctet?: number) {
      const octet = cidrSecondOctet ?? 10 + (networks++ % 200);
      const vpc = await clients.ec2.send(new CreateVpcCommand({ CidrBlock: `10.${octet}.0.0/16` }));
      const vpcId = vpc.Vpc?.VpcId ?? '';
      const subnetIds: string[] = [];
      for (const [i, zone] of ['a', 'b'].entries()) {
        const subnet = await clients.ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.${octet}.${i + 1}.0/24`, AvailabilityZone: `${MOTO_REGION}${zone}` }));
        subnetIds.push(subnet.Subnet?.SubnetId ?? '');
      }
      return { vpcId, subnetIds };
    },
    settingsFor(network: MotoNetwork): AwsSettings {
      return { region: MOTO_REGION, endpoint, subnetIds: network.subnetIds };
    },
    async stop() {
      clients.elbv2.destroy();
      clients.ec2.destroy();
      await stopChild(child);
    },
  };
}
