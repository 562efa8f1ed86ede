import type { MountEntry } from '../kernel/entries.js';
import type { PathSpec } from '../kernel/request.js';
import type { RequestObserver } from '../kernel/services.js';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './instruments.js';

/** Request durations, in seconds: from half a millisecond (a cached KV read) to ten seconds. */
export const REQUEST_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The route of requests that matched no path declaration (unknown paths, requests refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

/** The verbs a request can carry once the wire layer has read it; anything else is counted as `other`. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'LIST'] as const;
const OTHER_METHOD = METHODS.length;

/** Mounts whose path is fixed, so that their path names the route as it is. */
const FIXED_MOUNT_TYPES = new Set(['system', 'token', 'identity']);

/**
 * The route family of a request: the matched path declaration's pattern behind its mount, with
 * the mount written as its type when operators choose its path (`{kv-v2}/data/:path+`,
 * `auth/{approle}/login`) and as itself when it is fixed (`sys/seal-status`,
 * `auth/token/lookup-self`). Never a request's own path: the number of routes stays bounded by
 * the declarations, and no secret's name reaches a label.
 */
export function routeFamily(mount: MountEntry, spec: PathSpec): string {
  if (FIXED_MOUNT_TYPES.has(mount.type)) return `${mount.path}${spec.pattern}`;
  const type = mount.type === 'kv' ? `kv-v${mount.options?.version === '2' ? 2 : 1}` : mount.type;
  const where = mount.path.startsWith('auth/') ? `auth/{${type}}/` : `{${type}}/`;
  return `${where}${spec.pattern}`;
}

/** The series one route keeps per verb: its duration histogram and its counts by status. */
class RouteVerbSeries {
  /** By status code; a handful per route, so a map of small integers. */
  private readonly byStatus = new Map<number, CounterSeries>();

  constructor(
    private readonly requests: SeriesCounter<'method' | 'route' | 'status'>,
    private readonly method: string,
    private readonly route: string,
    readonly duration: HistogramSeries,
  ) {}

  counted(status: number): CounterSeries {
    let series = this.byStatus.get(status);
    if (!series) {
      series = this.requests.with({ method: this.method, route: this.route, status: String(status) });
      this.byStatus.set(status, series);
    }
    return series;
  }
}

/**
 * The HTTP layer's request metrics: `ferry_http_requests_total` and
 * `ferry_http_request_duration_seconds`. Recording finds the route's series through a
 * WeakMap keyed by the path declaration (declarations live as long as the server) and a
 * small array by verb; after a route's first request nothing is allocated.
 */
export class HttpRequestMetrics implements RequestObserver {
  readonly requests = new SeriesCounter(
    'ferry_http_requests_total',
    'HTTP requests answered, by verb, route family and status code.',
    ['method', 'route', 'status'] as const,
  );
  readonly duration = new SeriesHistogram(
    'ferry_http_request_duration_seconds',
    'Time Ferry took to answer an HTTP request, from reading it to having the response ready, by verb and route family.',
    ['method', 'route'] as const,
    REQUEST_DURATION_BUCKETS,
  );
  private readonly routes = new WeakMap<PathSpec, Array<RouteVerbSeries | undefined>>();
  private readonly unmatched: Array<RouteVerbSeries | undefined> = [];

  requestAnswered(method: string, mount: MountEntry | undefined, spec: PathSpec | undefined, status: number, seconds: number): void {
    let byVerb: Array<RouteVerbSeries | undefined> | undefined;
    let route = UNMATCHED_ROUTE;
    if (mount && spec) {
      byVerb = this.routes.get(spec);
      if (!byVerb) {
        byVerb = [];
        this.routes.set(spec, byVerb);
      }
    } else {
      byVerb = this.unmatched;
    }
    const verb = methodIndex(method);
    let series = byVerb[verb];
    if (!series) {
      if (mount && spec) route = routeFamily(mount, spec);
      const name = verb === OTHER_METHOD ? 'other' : METHODS[verb]!;
      series = new RouteVerbSeries(this.requests, name, route, this.duration.with({ method: name, route }));
      byVerb[verb] = series;
    }
    series.counted(status).inc();
    series.duration.observe(seconds);
  }
}

function methodIndex(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'PATCH':
      return 4;
    case 'DELETE':
      return 5;
    case 'LIST':
      return 6;
    default:
      return OTHER_METHOD;
  }
}
