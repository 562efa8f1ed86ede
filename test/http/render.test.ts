import { describe, expect, it } from 'vitest';
import { envelope } from '../../src/kernel/envelope.js';
import { renderResponse, type HandledRequest, type ParsedRequest } from '../../src/http/wire.js';

describe('rendering data that never changes', () => {
  const request = { method: 'GET' } as ParsedRequest;
  const data = Object.freeze({ data: Object.freeze({ password: 'x"y' }), version: 1 });
  const handled = (requestId: string, mountType: string, warnings: string[] = [], auth?: Record<string, unknown>): HandledRequest => ({
    requestId,
    response: { data, ...(auth ? { auth } : {}) },
    data,
    warnings,
    mountType,
    injector: false,
  });
  const expected = (h: HandledRequest) => JSON.stringify(envelope(h.requestId, h.mountType, { data, warnings: h.warnings, auth: h.response?.auth }));

  it('answers each request with its own id, mount type, warnings and auth, however often the data was rendered before', () => {
    for (const h of [
      handled('id-1', 'kv'),
      handled('id-2', 'kv'),
      handled('id-3', ''),
      handled('id-4', 'kv'),
      handled('id-5', 'kv', ['a warning']),
      handled('id-6', 'kv', [], { client_token: 'hvs.x' }),
      handled('id-7', 'kv'),
    ]) {
      const res = renderResponse(request, h, {});
      expect(res.status).toBe(200);
      expect(res.body).toBe(expected(h));
    }
  });
});
