/**
 * The failure converter kubeha's data converter names by path (`failureConverterPath`): it also runs
 * inside the workflow sandbox, so this module imports nothing but @temporalio/common. It moves each
 * failure's message and stack trace into an encoded attribute, which the payload codec then encrypts:
 * history shows "Encoded failure" until a client or the codec server decodes it.
 */
import { DefaultFailureConverter } from '@temporalio/common';

/** Read by the SDK through `failureConverterPath`. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
