/**
 * `kiln serve --workers N`: the workers share the public port, so a scrape of it would reach whichever
 * worker the connection was handed to. The primary serves the metrics listener instead, and answers
 * each scrape with every worker's metrics added up (prom-client's AggregatorRegistry asks each worker
 * over the cluster channel): counters and histograms summed, pool gauges summed (the connections of all
 * workers), event-loop lag averaged, as prom-client declares for each of its default metrics.
 */
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsSource } from './metrics-endpoint.js';

/** In a worker: answer the primary's requests for metrics with this registry (one app per worker). */
export function shareWithPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  // The constructor is what starts answering the primary's requests.
  new AggregatorRegistry();
}

/** In the primary: the metrics of every live worker, added up. */
export function clusterMetricsSource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() });
}
