/** The VPC and subnets each lab cluster's load balancer goes into, made in moto through the lab front. */
import { CreateSubnetCommand, CreateVpcCommand, EC2Client } from '@aws-sdk/client-ec2';
import { LAB_AWS_ENVIRONMENT } from './awsEnvironment';
import type { LabNetwork } from './state';
import type { LabCluster } from './topology';

/** Creates a VPC with two subnets (zones a and b) for `cluster`. */
export async function createLabNetwork(endpoint: string, cluster: LabCluster): Promise<LabNetwork> {
  const ec2 = new EC2Client({
    region: cluster.region,
    endpoint,
    credentials: { accessKeyId: LAB_AWS_ENVIRONMENT.AWS_ACCESS_KEY_ID, secretAccessKey: LAB_AWS_ENVIRONMENT.AWS_SECRET_ACCESS_KEY },
  });
  try {
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: cluster.vpcCidr }));
    const vpcId = vpc.Vpc?.VpcId;
    if (!vpcId) throw new Error(`moto created no VPC for ${cluster.name}`);
    const [a, b] = cluster.vpcCidr.split('.');
    const subnetIds: string[] = [];
    for (const [i, zone] of ['a', 'b'].entries()) {
      const subnet = await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `${a}.${b}.${i + 1}.0/24`, AvailabilityZone: `${cluster.region}${zone}` }),
      );
      if (!subnet.Subnet?.SubnetId) throw new Error(`moto created no subnet for ${cluster.name}`);
      subnetIds.push(subnet.Subnet.SubnetId);
    }
    return { cluster: cluster.name, region: cluster.region, vpcId, subnetIds };
  } finally {
    ec2.destroy();
  }
}
