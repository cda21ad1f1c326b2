/**
 * A Temporal client for activities that manage Temporal itself (the rotation schedule): connected on
 * first use, as the worker connects (temporal.toml / TEMPORAL_* through client/connection.ts), with
 * kubeha's data converter so the schedule's stored input is encrypted like history.
 */
import { Client, Connection } from '@temporalio/client';
import { temporalConnectionOptions } from '../../lib/temporalConnection';
import { kubehaDataConverter } from '../../lib/codec/dataConverter';
import { temporalSettings, type TemporalSettings } from '../../lib/config';

/** A client factory that connects once; later calls share the connection. */
export function lazyTemporalClient(settings: TemporalSettings = temporalSettings()): () => Promise<Client> {
  let client: Promise<Client> | undefined;
  return () => {
    client ??= (async () => {
      // TLS, client certificate and API key as the worker itself connects (temporal.toml / TEMPORAL_*).
      const connection = await Connection.connect(temporalConnectionOptions(settings));
      return new Client({ connection, namespace: settings.namespace, dataConverter: kubehaDataConverter().dataConverter });
    })();
    client.catch(() => (client = undefined));
    return client;
  };
}
