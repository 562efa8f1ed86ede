import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeAfterTest } from '../support/fixtures.js';
import { envelope, events, expectError, expectNotFound, put, startKv, useKv } from './helpers.js';

/**
 * Bad input gets Vault's 4xx and message, and nothing changes: the secret's metadata, its
 * data and the change-event outbox are exactly as before the request.
 */
const t = useKv();
let before: { meta: unknown; data: unknown; events: number };

async function snapshot() {
  return {
    meta: (await t.call('GET', '/v1/secret/metadata/app')).json(),
    data: (await t.call('GET', '/v1/secret/data/app')).json().data,
    events: (await events(t)).length,
  };
}

beforeEach(async () => {
  await put(t, 'app', { user: 'svc', password: 'p1' });
  await t.call('PUT', '/v1/secret/metadata/app', { body: { custom_metadata: { owner: 'platform' } } });
  before = await snapshot();
});
afterEach(async () => {
  expect(await snapshot()).toEqual({ ...before, meta: { ...before.meta as object, request_id: expect.any(String) } });
});

describe('KV v2 bad input changes nothing', () => {
  it('a data value that is not an object answers 400 field validation', async () => {
    for (const data of ['a string', [1, 2], 42, true]) {
      const res = await t.call('PUT', '/v1/secret/data/app', { body: { data } });
      expect(res.statusCode).toBe(400);
      expect(res.json().errors).toHaveLength(1);
      expect(res.json().errors[0]).toBe('Field validation failed: error converting input for field "data": expected a JSON object');
    }
  });

  it('options that are not an object answer 400 field validation', async () => {
    const res = await t.call('PUT', '/v1/secret/data/app', { body: { data: { a: 1 }, options: 'cas=1' } });
    expectError(res, 400, 'Field validation failed: error converting input for field "options": expected a JSON object');
  });

  it('a wrong CAS answers 400 "check-and-set parameter did not match the current version"', async () => {
    expectError(
      await t.call('PUT', '/v1/secret/data/app', { body: { data: { a: 1 }, options: { cas: 5 } } }),
      400,
      'check-and-set parameter did not match the current version',
    );
    expectError(
      await t.call('PATCH', '/v1/secret/data/app', { body: { data: { a: 1 }, options: { cas: 0 } }, headers: { 'content-type': 'application/merge-patch+json' } }),
      400,
      'check-and-set parameter did not match the current version',
    );
  });

  it('negative versions: a read of ?version=-1 finds nothing, cas -1 mismatches, versions [-1] are skipped', async () => {
    expectNotFound(await t.call('GET', '/v1/secret/data/app?version=-1'));
    expectNotFound(await t.call('GET', '/v1/secret/subkeys/app?version=-1'));
    expectError(
      await t.call('PUT', '/v1/secret/data/app', { body: { data: { a: 1 }, options: { cas: -1 } } }),
      400,
      'check-and-set parameter did not match the current version',
    );
    for (const action of ['delete', 'destroy']) {
      expect((await t.call('PUT', `/v1/secret/${action}/app`, { body: { versions: [-1] } })).statusCode).toBe(204);
    }
  });

  it('a negative max_versions answers 400', async () => {
    expectError(await t.call('PUT', '/v1/secret/metadata/app', { body: { max_versions: -1 } }), 400, 'max_versions must be a non-negative integer');
    expectError(await t.call('POST', '/v1/secret/config', { body: { max_versions: -1 } }), 400, 'max_versions must be a non-negative integer');
  });

  it('custom_metadata over its limits answers 400 with the validation messages', async () => {
    const res = await t.call('PUT', '/v1/secret/metadata/app', { body: { custom_metadata: { owner: 'x'.repeat(600) }, max_versions: 2 } });
    expectError(res, 400, 'custom_metadata validation failed: length of value for key "owner" is 600 but must be 0 < len(value) <= 512');
  });

  it('malformed JSON answers 400 "error parsing JSON"', async () => {
    expectError(await t.call('PUT', '/v1/secret/data/app', { rawBody: '{"data": {' }), 400, 'error parsing JSON');
  });

  it('a non-integer version list answers 400 field validation', async () => {
    const res = await t.call('PUT', '/v1/secret/destroy/app', { body: { versions: ['one'] } });
    expectError(res, 400, 'Field validation failed: error converting input for field "versions": cannot parse as a list of integers');
  });
});

describe('KV v2 request size limit', () => {
  it('a body past the size limit answers 413 and is not stored', async () => {
    const small = closeAfterTest(await startKv({ maxRequestSize: 4096 }));
    const res = await small.call('PUT', '/v1/secret/data/big', { body: { data: { blob: 'x'.repeat(5000) } } });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({ errors: ['http: request body too large'] });
    expectNotFound(await small.call('GET', '/v1/secret/data/big'));
    expect(await events(small)).toEqual([]);
    expect((await small.call('PUT', '/v1/secret/data/big', { body: { data: { blob: 'x'.repeat(100) } } })).json()).toEqual(
      envelope(expect.objectContaining({ version: 1 })),
    );
  });
});
