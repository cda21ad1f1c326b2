/**
 * LAB STAND-IN for the linkerd-smi extension's TrafficSplit CRD on west: the CRD only (the lab runs no
 * SMI controller), so that west serves the TrafficSplit objects kubeha writes.
 */
import type { KubeObject } from '../kube/client';
import { STAND_IN_ANNOTATION } from './objects';

/** The SMI TrafficSplit CRD as the linkerd-smi extension installs it (v1alpha1 stored, v1alpha2 served). */
export function trafficSplitCrd(): KubeObject {
  const backends = (weight: Record<string, unknown>) => ({
    type: 'array',
    items: { type: 'object', required: ['service', 'weight'], properties: { service: { type: 'string' }, weight } },
  });
  const version = (name: string, storage: boolean, weight: Record<string, unknown>) => ({
    name,
    served: true,
    storage,
    additionalPrinterColumns: [{ name: 'Service', type: 'string', description: 'The apex service of this split.', jsonPath: '.spec.service' }],
    schema: {
      openAPIV3Schema: {
        type: 'object',
        properties: {
          spec: { type: 'object', required: ['service', 'backends'], properties: { service: { type: 'string' }, backends: backends(weight) } },
        },
      },
    },
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: 'trafficsplits.split.smi-spec.io',
      labels: { 'linkerd.io/extension': 'smi' },
      annotations: { [STAND_IN_ANNOTATION]: 'the TrafficSplit CRD of the linkerd-smi extension' },
    },
    spec: {
      group: 'split.smi-spec.io',
      scope: 'Namespaced',
      conversion: { strategy: 'None' },
      names: { kind: 'TrafficSplit', listKind: 'TrafficSplitList', plural: 'trafficsplits', singular: 'trafficsplit', shortNames: ['ts'] },
      versions: [
        // v1alpha1 weights are quantities ("500m") or integers.
        version('v1alpha1', true, { 'x-kubernetes-int-or-string': true }),
        version('v1alpha2', false, { type: 'integer', minimum: 0 }),
      ],
    },
  };
}
