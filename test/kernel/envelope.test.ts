import { describe, expect, it } from 'vitest';
import { envelope, envelopeJson } from '../../src/kernel/envelope.js';

describe('envelope JSON from pre-serialised data', () => {
  it('is byte for byte the JSON of the envelope', () => {
    const cases = [
      { id: '5728c9ad-70a7-403a-ac73-06310b7848db', mount: 'kv', data: { data: { a: 'x"y\\u2028', n: 1.5 }, metadata: { version: 3, custom_metadata: null } }, res: {} },
      { id: 'id', mount: '', data: { keys: ['a', 'b/'] }, res: { warnings: ['one', 'two "quoted"'] } },
      { id: 'id', mount: 'token', data: { x: null }, res: { warnings: [], auth: { client_token: 'hvs.x', policies: ['default'] } } },
      { id: 'id', mount: 'system', data: {}, res: { auth: null } },
    ];
    for (const c of cases) {
      const expected = JSON.stringify(envelope(c.id, c.mount, { data: c.data, ...c.res }));
      expect(envelopeJson(c.id, c.mount, JSON.stringify(c.data), c.res)).toBe(expected);
    }
  });
});
