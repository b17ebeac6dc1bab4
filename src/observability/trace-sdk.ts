/**
 * The OpenTelemetry SDK of one app, loaded by tracing.ts only when an OTLP endpoint is configured.
 * The provider is the app's own, not registered globally: tests (and embedding applications) run
 * several apps in one process, each exporting where its settings say. Spans are made by Kiln
 * (request-spans.ts) rather than by instrumentation that patches modules: patching is unreliable
 * under ESM, and PGlite has no instrumentation at all.
 *
 * The standard OTEL_* variables the SDK reads itself still apply: OTEL_EXPORTER_OTLP_HEADERS (and
 * _TRACES_HEADERS), OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_TRACES_SAMPLER(_ARG), OTEL_BSP_*, OTEL_RESOURCE_ATTRIBUTES.
 */
import type { Attributes } from '@opentelemetry/api';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Database } from '../db/database.js';
import { installRequestSpans } from './request-spans.js';
import type { StopTracing } from './tracing.js';

export interface TraceSdkOptions {
  /** Where spans are POSTed (OTLP/HTTP, JSON). */
  readonly url: string;
  /** OTEL_SERVICE_NAME; empty: the `service.name` of OTEL_RESOURCE_ATTRIBUTES, else `kiln`. */
  readonly serviceName: string;
  readonly serviceVersion: string;
}

/** The longest shutdown waits for the last spans to be exported. */
const SHUTDOWN_WAIT_MS = 3000;

export function startTracing(app: FastifyInstance, db: Database, options: TraceSdkOptions): StopTracing {
  const exporter = new ReportingExporter(new OTLPTraceExporter({ url: options.url }), app.log, shownUrl(options.url));
  const provider = new BasicTracerProvider({ resource: resourceOf(options), spanProcessors: [new BatchSpanProcessor(exporter)] });
  const removeSpans = installRequestSpans(app, db, provider.getTracer('kiln', options.serviceVersion));
  let stopped: Promise<void> | undefined;
  return () => {
    stopped ??= stop();
    return stopped;
  };

  async function stop(): Promise<void> {
    removeSpans();
    let timer: NodeJS.Timeout | undefined;
    const flushed = provider.shutdown().catch((error: unknown) => app.log.warn({ err: error }, 'could not flush traces at shutdown'));
    const timeout = new Promise<void>((done) => {
      timer = setTimeout(() => {
        app.log.warn({ endpoint: shownUrl(options.url) }, `traces not exported within ${SHUTDOWN_WAIT_MS} ms of shutdown were dropped`);
        done();
      }, SHUTDOWN_WAIT_MS);
      timer.unref();
    });
    await Promise.race([flushed, timeout]);
    clearTimeout(timer);
  }
}

/** service.name: the setting, else OTEL_RESOURCE_ATTRIBUTES', else `kiln` (never the SDK's `unknown_service:node`). */
function resourceOf(options: TraceSdkOptions) {
  const own: Attributes = { 'service.name': 'kiln', 'service.version': options.serviceVersion };
  const fromEnv = detectResources({ detectors: [envDetector] });
  const chosen = resourceFromAttributes(options.serviceName ? { 'service.name': options.serviceName } : {});
  return defaultResource().merge(resourceFromAttributes(own)).merge(fromEnv).merge(chosen);
}

/** The endpoint as logged: without credentials a URL may carry. */
function shownUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/**
 * Logs when exports start failing, once, and when they succeed again: a collector that is down must
 * neither go unnoticed nor write a line per batch. The spans of a failed export are dropped (the
 * batch processor does not retry), and requests are never affected.
 */
class ReportingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #log: FastifyBaseLogger;
  readonly #endpoint: string;
  #failing = false;

  constructor(inner: SpanExporter, log: FastifyBaseLogger, endpoint: string) {
    this.#inner = inner;
    this.#log = log;
    this.#endpoint = endpoint;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code === ExportResultCode.FAILED) {
        if (!this.#failing)
          this.#log.warn({ err: result.error, endpoint: this.#endpoint }, 'could not export traces; spans are dropped until the collector answers');
        this.#failing = true;
      } else if (this.#failing) {
        this.#failing = false;
        this.#log.info({ endpoint: this.#endpoint }, 'trace export resumed');
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}
