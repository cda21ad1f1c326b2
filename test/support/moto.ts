/**
 * A real moto_server for tests: started from the project's virtualenv on 127.0.0.1 and a free
 * port, with dummy credentials and helpers to build a VPC with subnets through the EC2 API.
 */
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../../activities/aws/clients';
import type { AwsSettings } from '../../common/inputs/shared';
import { startMotoProcess, type MotoProcess } from '../../lab/aws/motoProcess';
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

/** Starts moto_server (the lab's starter: free port, retries, waits until it answers). Call `stop()` in `after`. */
export async function startMoto(): Promise<MotoServer> {
  const moto = await startMotoProcess(findTool('moto_server', 'MOTO_SERVER_PATH'), '127.0.0.1');
  return motoServer(moto);
}

function motoServer(moto: MotoProcess): MotoServer {
  const { endpoint } = moto;
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
        const subnet = await clients.ec2.send(
          new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.${octet}.${i + 1}.0/24`, AvailabilityZone: `${MOTO_REGION}${zone}` }),
        );
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
      await moto.stop();
    },
  };
}
