import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../support/app.js';
import { closeAfterTest } from '../support/fixtures.js';

describe('OpenAPI document', () => {
  it('is served at sys/internal/specs/openapi, generated from the same declarations as the committed copy', async () => {
    const t = closeAfterTest(await startTestServer());
    const res = await t.call('GET', '/v1/sys/internal/specs/openapi', { token: null });
    expect(res.statusCode).toBe(200);
    const served = res.json();
    const committed = JSON.parse(readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8'));
    expect(served).toEqual(committed);
    expect(served.paths['/sys/mounts/{path}'].post.operationId).toBe('mounts-enable-secrets-engine');
  });
});
