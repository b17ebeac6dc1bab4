/**
 * OpenTelemetry traces (docs/how-to/traces.md): a server span per HTTP request and a child span per
 * SQL statement it runs, exported over OTLP/HTTP when an endpoint is configured. This module is the
 * only part loaded without one: it installs nothing and never imports the SDK, so an app without
 * traces pays neither the SDK's start-up nor a hook on its requests.
 */
import type { FastifyInstance } from 'fastify';
import type { Settings } from '../config/settings.js';
import type { Database } from '../db/database.js';

/** Flushes the spans not yet exported and stops the exporter; bounded, so a dead collector cannot hold up shutdown. */
export type StopTracing = () => Promise<void>;

export type TraceSettings = Pick<Settings, 'otelEndpoint' | 'otelTracesEndpoint' | 'otelServiceName'>;

/**
 * Where spans are sent, by the OTLP rules (https://opentelemetry.io/docs/specs/otel/protocol/exporter/):
 * the traces endpoint as given, else the general endpoint with `v1/traces` appended; none: no traces.
 */
export function tracesUrl(settings: TraceSettings): string | undefined {
  if (settings.otelTracesEndpoint) return settings.otelTracesEndpoint;
  if (!settings.otelEndpoint) return undefined;
  return `${settings.otelEndpoint.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Installs the request and SQL spans when traces are configured. Call it before any other onRequest
 * hook: a request answered by an earlier hook (the shutdown gate, a 406) gets its span too.
 */
export async function installTracing(app: FastifyInstance, db: Database, settings: TraceSettings, serviceVersion: string): Promise<StopTracing> {
  const url = tracesUrl(settings);
  if (url === undefined) return async () => {};
  const { startTracing } = await import('./trace-sdk.js');
  return startTracing(app, db, { url, serviceName: settings.otelServiceName, serviceVersion });
}
