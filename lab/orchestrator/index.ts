/** The lab as a whole: `kubeha lab up|down|status|fault` (see lab/README.md). */
export { labUp, labDown, type LabUpOptions, type LabUpResult, type LabDownOptions, type LabDownResult } from './lifecycle';
export { labPaths, readLabState, type LabPaths, type LabState, type LabStateHost } from './state';
export { loadTopology, parseTopology, defaultTopologyInput, labTopologySchema, type LabTopology, type LabTopologyInput } from './topology';
export { applyLabAwsEnvironment, applyLabLinkerdEnvironment, labAwsExports, LAB_AWS_ENVIRONMENT, LAB_LINKERD_PATH } from './awsEnvironment';
export { LAB_KUBERNETES_VERSION } from './inputs';
export { labStatus, formatLabStatus, type LabStatus, type LabHostStatus } from './status';
export { labFault, LAB_FAULTS, type LabFaultName } from './faults';
export { labProcessIds, labRssBytes, rssBytes } from './memory';
