import http from 'node:http';
import https from 'node:https';

/** Discovery documents and key sets are small; anything larger is not one. */
const MAX_BYTES = 1024 * 1024;
const TIMEOUT_MS = 10_000;

/**
 * Fetches a JSON document over HTTP(S) — an OIDC discovery document or a JWKS — trusting the
 * given CA bundle (`jwks_ca_pem`, `oidc_discovery_ca_pem`) instead of the system's when one is
 * configured. Answers other than 200, bodies over 1 MiB, redirects and slow servers (10 s) fail.
 */
export function fetchJson(url: string, caPem?: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new Error(`invalid URL ${JSON.stringify(url)}`));
      return;
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      reject(new Error(`unsupported URL scheme ${JSON.stringify(target.protocol)}`));
      return;
    }
    const get = target.protocol === 'https:' ? https.get : http.get;
    const req = get(target, { headers: { accept: 'application/json' }, timeout: TIMEOUT_MS, ...(caPem ? { ca: caPem } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${res.statusCode} ${res.statusMessage ?? ''}`.trim()));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BYTES) {
          req.destroy(new Error('response larger than 1 MiB'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error('response is not JSON'));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
