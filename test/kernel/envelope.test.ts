import { describe, expect, it } from 'vitest';
import { envelope, envelopeHead, envelopeJson, envelopeTail, jsonString } from '../../src/kernel/envelope.js';

describe('envelope JSON from pre-serialised data', () => {
  const cases = [
    { id: '5728c9ad-70a7-403a-ac73-06310b7848db', mount: 'kv', data: { data: { a: 'x"y\\u2028', n: 1.5 }, metadata: { version: 3, custom_metadata: null } }, res: {} },
    { id: 'id', mount: '', data: { keys: ['a', 'b/'] }, res: { warnings: ['one', 'two "quoted"'] } },
    { id: 'id', mount: 'token', data: { x: null }, res: { warnings: [], auth: { client_token: 'hvs.x', policies: ['default'] } } },
    { id: 'id', mount: 'system', data: {}, res: { auth: null } },
    { id: 'a "quoted"\\ id\n', mount: 'mount "type"\u2028é', data: {}, res: {} },
  ];

  it('is byte for byte the JSON of the envelope', () => {
    for (const c of cases) {
      const expected = JSON.stringify(envelope(c.id, c.mount, { data: c.data, ...c.res }));
      expect(envelopeJson(c.id, c.mount, JSON.stringify(c.data), c.res)).toBe(expected);
    }
  });

  it('is its head (what the request id changes) and its tail (what the data, warnings, auth and mount type fix)', () => {
    for (const c of cases) {
      const expected = JSON.stringify(envelope(c.id, c.mount, { data: c.data, ...c.res }));
      expect(envelopeHead(c.id) + envelopeTail(c.mount, JSON.stringify(c.data), c.res)).toBe(expected);
    }
  });
});

describe('JSON of a string', () => {
  it('is JSON.stringify’s, for text that needs no escape and text that does', () => {
    const texts = ['', 'kv', '5728c9ad-70a7-403a-ac73-06310b7848db', ' !#~', 'a"b', 'a\\b', 'tab\there', '\u0000\u001f', '\u007f', 'é', '\u2028', '😀', '\ud800', 'x\udc00y'];
    for (const t of texts) expect(jsonString(t)).toBe(JSON.stringify(t));
  });
});
