import http from 'node:http';

/**
 * The benchmarks' HTTP client for Ferry: JSON over a bounded pool of kept-alive connections,
 * as a real client (the `vault` CLI, node-vault, an HTTP library) has. Requests beyond the pool
 * wait in the client for a free connection.
 *
 * Why not `fetch`: Node's fetch opens a new connection for every request that finds none idle,
 * without a limit, so an open-loop load against a slowed-down server (a busy machine) piles up
 * hundreds of connections; past the listener's `max_connections` (512 by default) Ferry closes
 * the newest as soon as it accepts them, and the client sees ECONNRESET — a limit of the load
 * generator, not a failure of the server under test.
 */
export interface VaultClient {
  /** `method` on `/v1/<path>` with the token; the parsed answer (undefined for 204); throws on a 4xx/5xx or a socket error. */
  call(method: string, path: string, body?: unknown): Promise<any>;
  /** Most requests in flight (sent or waiting for a connection) at once so far. */
  readonly maxInFlight: number;
  close(): void;
}

export function vaultClient(baseUrl: string, token: string, connections = 32): VaultClient {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let inFlight = 0;
  let maxInFlight = 0;
  const call = (method: string, path: string, body?: unknown): Promise<any> =>
    new Promise((resolve, reject) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path: `/v1/${path}`,
          agent,
          headers: {
            'x-vault-token': token,
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            inFlight--;
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 0) >= 400) return reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
            try {
              resolve(text ? JSON.parse(text) : undefined);
            } catch (err) {
              reject(err as Error);
            }
          });
        },
      );
      req.on('error', (err) => {
        inFlight--;
        reject(new Error(`${method} ${path}: ${err.message}`));
      });
      req.end(payload);
    });
  return {
    call,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () => agent.destroy(),
  };
}
