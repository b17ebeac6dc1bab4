/**
 * Where traces go, from the standard OpenTelemetry variables: the traces endpoint as given, else the
 * general endpoint with /v1/traces appended, else nowhere; a URL without http(s) stops the start.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, resolveSettings } from '../../src/config/settings.js';
import { tracesUrl } from '../../src/observability/tracing.js';

describe('OTLP endpoint settings', () => {
  test('none set: no traces', () => {
    assert.equal(tracesUrl(resolveSettings({})), undefined);
  });

  test('OTEL_EXPORTER_OTLP_ENDPOINT gets v1/traces appended, with or without a trailing slash', () => {
    assert.equal(tracesUrl(resolveSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })), 'http://collector:4318/v1/traces');
    assert.equal(tracesUrl(resolveSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example.com/base/' })), 'https://otel.example.com/base/v1/traces');
  });

  test('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given, over the general one', () => {
    const settings = resolveSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces.example.com:9999/ingest',
    });
    assert.equal(tracesUrl(settings), 'http://traces.example.com:9999/ingest');
  });

  test('OTEL_SERVICE_NAME is read', () => {
    assert.equal(resolveSettings({ OTEL_SERVICE_NAME: 'blog-api' }).otelServiceName, 'blog-api');
  });

  test('an endpoint that is not an http(s) URL is refused at start, naming the variable', () => {
    assert.throws(
      () => resolveSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(
          error.message,
          'invalid configuration:\n' +
            '  - OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4317" does not match /^https?:\\/\\/\\S+$/\n' +
            '  - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "grpc://collector:4317" does not match /^https?:\\/\\/\\S+$/',
        );
        return true;
      },
    );
  });
});
