import autocannon from 'autocannon';

/** One load phase: many connections sending requests built per call. */
export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  method: 'GET' | 'PUT' | 'POST';
  /** The path of the i-th request (lets a phase spread over many keys). */
  pathFor: (i: number) => string;
  headers?: Record<string, string>;
  body?: string;
}

/** Throughput and latency of one phase. */
export interface LoadResult {
  /** Mean requests per second over the phase. */
  rps: number;
  p50: number;
  p99: number;
  total: number;
  /** Connection errors, timeouts and non-2xx answers: any of them invalidates the run. */
  failures: number;
  statusCodes: Record<string, number>;
}

/** Runs one autocannon phase in this process (the target runs in another). */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  let i = 0;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.duration,
    requests: [
      {
        method: spec.method,
        headers: spec.headers ?? {},
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        setupRequest: (req) => ({ ...req, path: spec.pathFor(i++) }),
      },
    ],
  });
  const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]));
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
    statusCodes,
  };
}
