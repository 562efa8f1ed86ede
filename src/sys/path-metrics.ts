import { vString } from '../kernel/fields.js';
import { definePath } from '../kernel/request.js';
import { PROMETHEUS_CONTENT_TYPE, requestedFormat } from '../metrics/index.js';
import type { SystemDeps } from './deps.js';

/**
 * `sys/metrics`: the server's metrics, raw (no envelope), in Prometheus' text format
 * (`format=prometheus`, or an `Accept` header asking for it) or Vault's JSON form. A token with
 * `read` on `sys/metrics` may read it; a listener with `telemetry { unauthenticated_metrics_access
 * = true }` serves it to anyone. An unknown format, or Prometheus' while
 * `prometheus_retention_time` is 0, is Vault's 400 with a text/plain reason.
 */
export const metricsPath = (deps: Pick<SystemDeps, 'metrics'>) =>
  definePath({
    pattern: 'metrics',
    openOnMetricsListener: true,
    textContentTypes: ['application/json', PROMETHEUS_CONTENT_TYPE],
    description: "The server's metrics: Prometheus' text exposition format, or Vault's JSON form.",
    operations: (op) => ({
      read: op({
        summary: 'Export the metrics aggregated for telemetry purpose.',
        operationId: 'metrics',
        fields: { format: vString() },
        handler: async (req) => {
          const answer = await deps.metrics.answer(requestedFormat(req.data.format, req.headers.accept));
          if (answer.refused) return { status: 400, text: answer.message, headers: { 'content-type': 'text/plain' } };
          return { status: 200, text: answer.body, headers: { 'content-type': answer.contentType } };
        },
      }),
    }),
  });
