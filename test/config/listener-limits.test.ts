import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../../src/config/server-config.js';
import { tempDirForTest } from '../support/fixtures.js';

const load = (listenerBody: string) => {
  const dir = tempDirForTest('ferry-limits-');
  const file = path.join(dir, 'ferry.hcl');
  fs.writeFileSync(file, `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n${listenerBody}\n}\nstorage "sqlite" { path = "${dir}/f.db" }\n`);
  return loadServerConfig([file]).listeners[0]!;
};

describe('listener "tcp" timeouts, JSON limits and max_connections', () => {
  it('defaults to Vault\'s values (and Ferry\'s 512 connections) when the keys are absent', () => {
    const l = load('');
    expect(l.timeouts).toEqual({ readHeaderMs: 10_000, readMs: 30_000, writeMs: 0, idleMs: 300_000 });
    expect(l.jsonLimits).toEqual({ maxDepth: 500, maxStringValueLength: 1_048_576, maxObjectEntryCount: 10_000, maxArrayElementCount: 10_000 });
    expect(l.maxConnections).toBe(512);
  });

  it('reads Vault\'s keys: Go durations or seconds, counts as numbers or strings; 0 keeps the default', () => {
    const l = load(`
  http_read_header_timeout = "2s"
  http_read_timeout = 45
  http_write_timeout = "1m30s"
  http_idle_timeout = "500ms"
  max_json_depth = 64
  max_json_string_value_length = "4096"
  max_json_object_entry_count = 0
  max_json_array_element_count = 100
  max_connections = 2000`);
    expect(l.timeouts).toEqual({ readHeaderMs: 2_000, readMs: 45_000, writeMs: 90_000, idleMs: 500 });
    expect(l.jsonLimits).toEqual({ maxDepth: 64, maxStringValueLength: 4096, maxObjectEntryCount: 10_000, maxArrayElementCount: 100 });
    expect(l.maxConnections).toBe(2000);
  });

  it('refuses bad values, naming the key', () => {
    const cases: Array<[string, RegExp]> = [
      ['http_read_header_timeout = "soon"', /"listener\.tcp\.http_read_header_timeout": expected a duration/],
      ['http_idle_timeout = "-1s"', /"listener\.tcp\.http_idle_timeout"/],
      ['max_json_depth = 5000', /"listener\.tcp\.max_json_depth": must be at most 1000/],
      ['max_json_array_element_count = -3', /"listener\.tcp\.max_json_array_element_count"/],
      ['max_connections = 0', /"listener\.tcp\.max_connections": must be at least 1/],
    ];
    for (const [line, message] of cases) {
      expect(() => load(line), line).toThrow(ConfigError);
      expect(() => load(line), line).toThrow(message);
    }
  });
});
