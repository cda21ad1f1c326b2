/**
 * The AWS activities: the API's Network Load Balancer and its targets. Built by
 * {@link createAwsActivities} from a client factory, so tests point them at moto.
 */
import type { AwsActivities } from '../types';
import { resolveDependencies, type AwsActivityDependencies } from './dependencies';
import { ensureLoadBalancer, findExistingLoadBalancer } from './ensureLoadBalancer';
import { deregisterTarget, describeTargetHealth, registerTarget } from './targets';
import { waitTargetHealthy } from './waitTargetHealthy';

export { defaultAwsClients, type AwsClientFactory, type AwsClients } from './clients';
export { systemClock, type AwsActivityDependencies, type Clock } from './dependencies';
export { awsFailure, awsErrorFacts } from './awsErrors';
export { DRY_RUN_PREFIX, defaultTargetGroupName, isDryRunPlaceholder } from './ensureLoadBalancer';
export { CLUSTER_TAG, MANAGED_TAG } from './tags';

/** Builds the AWS activities. Each call finds its clients through `deps.clientsFor(input.aws)`. */
export function createAwsActivities(deps: AwsActivityDependencies): AwsActivities {
  const resolved = resolveDependencies(deps);
  return {
    ensureLoadBalancer: (input) => ensureLoadBalancer(resolved, input),
    findLoadBalancer: (input) => findExistingLoadBalancer(resolved, input),
    registerTarget: (input) => registerTarget(resolved.clientsFor(input.aws), input),
    deregisterTarget: (input) => deregisterTarget(resolved.clientsFor(input.aws), input),
    describeTargetHealth: (input) => describeTargetHealth(resolved.clientsFor(input.aws), input),
    waitTargetHealthy: (input) => waitTargetHealthy(resolved, input),
  };
}
