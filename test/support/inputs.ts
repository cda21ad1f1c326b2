/**
 * Valid workflow inputs for tests, built fresh each time so a test can break one field.
 */
import type { BootstrapStackedEtcdInput } from '../../common/inputs/bootstrapStackedEtcd';

const FINGERPRINT = 'SHA256:' + 'A'.repeat(43);

/** A host entry with pinned SSH settings. */
export function host(name: string, address: string, role: 'control-plane' | 'spare-control-plane' | 'worker') {
  return { name, address, role, ssh: { user: 'root', port: 22, privateKey: { file: '/etc/kubeha/ssh/id_ed25519' }, hostKeyFingerprint: FINGERPRINT } };
}

/** 3 control planes + 1 spare + 2 workers, as the seed's topology. */
export function bootstrapInput(overrides: Partial<BootstrapStackedEtcdInput> = {}): BootstrapStackedEtcdInput {
  return {
    clusterName: 'west',
    kubernetesVersion: '1.34.2',
    aws: { region: 'us-east-1', subnetIds: ['subnet-0a1b2c3d'] },
    loadBalancer: { name: 'kube-api-west' },
    hosts: [
      host('cp-1', '10.0.1.11', 'control-plane'),
      host('cp-2', '10.0.1.12', 'control-plane'),
      host('cp-3', '10.0.1.13', 'control-plane'),
      host('spare-1', '10.0.2.11', 'spare-control-plane'),
      host('worker-1', '10.0.1.21', 'worker'),
      host('worker-2', '10.0.1.22', 'worker'),
    ],
    ...overrides,
  } as BootstrapStackedEtcdInput;
}
