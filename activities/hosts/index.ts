/** Host activities over SSH; see {@link createHostActivities}. */
export { createHostActivities, type HostActivityDeps } from './hostActivities';
