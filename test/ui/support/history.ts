/**
 * Reading a run's raw history, as the Temporal server stores it (no codec): which payloads are
 * encrypted and whether any of them holds a given text in clear.
 */
import type { temporal } from '@temporalio/proto';

type Payload = temporal.api.common.v1.IPayload;
type History = temporal.api.history.v1.IHistory;

/** The payload encoding kubeha's codec writes (lib/codec). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';

/** A payload's `encoding` metadata as text. */
export function encodingOf(payload: Payload | null | undefined): string {
  const raw = payload?.metadata?.encoding;
  return raw ? Buffer.from(raw).toString('utf8') : '';
}

/** Whether a payload's bytes contain `text` as is. */
export function holdsInClear(payload: Payload | null | undefined, text: string): boolean {
  return payload?.data ? Buffer.from(payload.data).includes(Buffer.from(text, 'utf8')) : false;
}

/** The first event's workflow input. */
export function startInput(history: History): Payload[] {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
}

/** The arguments of every update the run accepted, by update name. */
export function acceptedUpdateArgs(history: History, name: string): Payload[] {
  return (history.events ?? [])
    .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input)
    .filter((input) => input?.name === name)
    .flatMap((input) => input?.args?.payloads ?? []);
}

/** The run's result payloads (empty while it runs). */
export function completedResult(history: History): Payload[] {
  const completed = (history.events ?? []).find((e) => e.workflowExecutionCompletedEventAttributes);
  return completed?.workflowExecutionCompletedEventAttributes?.result?.payloads ?? [];
}
