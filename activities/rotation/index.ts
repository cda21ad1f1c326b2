/** Rotation activities; see {@link createRotationActivities}. */
export { createRotationActivities, type RotationActivityDeps } from './rotationActivities';
export { lazyTemporalClient } from './temporalClient';
