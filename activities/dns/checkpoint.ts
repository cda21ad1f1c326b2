/**
 * The checkpoint of a Route 53 weight change: heartbeated as soon as Route 53 accepts the change, read
 * back by the next attempt. A retry after a crash between the UPSERT and INSYNC finds the records
 * already set; without the checkpoint it would return at once, before the change is INSYNC.
 */
import { z } from 'zod';
import { heartbeat, lastHeartbeatDetails } from '../activityContext';

const checkpointSchema = z.object({
  changeId: z.string().min(1),
  weights: z.object({ west: z.number(), east: z.number() }),
  /** What the attempt that sent the change read before it, so a resumed attempt reports the same. */
  before: z.object({ west: z.number().optional(), east: z.number().optional() }),
});

/** A change Route 53 accepted, and what it was for. */
export type ChangeCheckpoint = z.infer<typeof checkpointSchema>;

/** Records the change, so that the next attempt waits for it instead of sending another. */
export function checkpointChange(checkpoint: ChangeCheckpoint): void {
  heartbeat(checkpoint);
}

/** The change an earlier attempt of this activity sent for the same weights, if any. */
export function earlierChange(weights: { west: number; east: number }): ChangeCheckpoint | undefined {
  const details = lastHeartbeatDetails();
  // While it waits, pollUntil heartbeats `{ waitedSeconds, progress }`: the checkpoint rides in `progress`.
  const parsed = checkpointSchema.safeParse(details && typeof details === 'object' && 'progress' in details ? details.progress : details);
  return parsed.success && parsed.data.weights.west === weights.west && parsed.data.weights.east === weights.east ? parsed.data : undefined;
}
