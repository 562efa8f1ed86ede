import { describe, it, expect } from 'vitest';
import { parseHcl, HclSyntaxError } from '../../src/kernel/hcl.js';

function syntaxError(text: string, file?: string): HclSyntaxError {
  try {
    parseHcl(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(HclSyntaxError);
    return err as HclSyntaxError;
  }
  throw new Error('expected parseHcl to throw');
}

describe('parseHcl: Vault server config', () => {
  it('decodes a typical server config', () => {
    const cfg = parseHcl(`
# Ferry / Vault server configuration
ui = true
api_addr = "https://ferry.example.com:8200"
cluster_addr = "https://10.0.0.5:8201"
log_level = "info"
disable_mlock = true
default_lease_ttl = "768h"

listener "tcp" {
  address          = "0.0.0.0:8200"
  tls_disable      = 1
  max_request_size = 33554432
}

listener "tcp" {
  address     = "127.0.0.1:8210"
  tls_disable = "true"
}

listener "unix" {
  address = "/run/ferry.sock"
}

storage "sqlite" {
  path = "/var/lib/ferry/ferry.db"
}

telemetry {
  disable_hostname = true
  prometheus_retention_time = "30s"
}
`);
    expect(cfg).toEqual({
      ui: true,
      api_addr: 'https://ferry.example.com:8200',
      cluster_addr: 'https://10.0.0.5:8201',
      log_level: 'info',
      disable_mlock: true,
      default_lease_ttl: '768h',
      listener: {
        tcp: [
          { address: '0.0.0.0:8200', tls_disable: 1, max_request_size: 33554432 },
          { address: '127.0.0.1:8210', tls_disable: 'true' },
        ],
        unix: { address: '/run/ferry.sock' },
      },
      storage: { sqlite: { path: '/var/lib/ferry/ferry.db' } },
      telemetry: { disable_hostname: true, prometheus_retention_time: '30s' },
    });
  });

  it('decodes numbers, booleans, null, lists and nested objects', () => {
    const cfg = parseHcl(`
a = 42
b = -7
c = 3.25
d = 1e3
e = 0x1F
f = false
g = null
h = [1, "two", true,
  [3],
]
i = []
j = { k = "v", n = 2 }
k = {
  deep = { x = [ { y = 1 } ] }
}
"quoted key" = "ok"
dotted.key-name_1 = "ok"
`);
    expect(cfg).toEqual({
      a: 42,
      b: -7,
      c: 3.25,
      d: 1000,
      e: 31,
      f: false,
      g: null,
      h: [1, 'two', true, [3]],
      i: [],
      j: { k: 'v', n: 2 },
      k: { deep: { x: [{ y: 1 }] } },
      'quoted key': 'ok',
      'dotted.key-name_1': 'ok',
    });
  });

  it('decodes string escapes and keeps ${} literally', () => {
    const cfg = parseHcl(String.raw`s = "a\nb\tc \"q\" back\\slash \u00e9 \U0001F600 ` + '${var.x}"');
    expect(cfg.s).toBe('a\nb\tc "q" back\\slash \u00e9 \u{1F600} ' + '${var.x}');
  });

  it('handles CRLF line endings and a BOM', () => {
    expect(parseHcl('\uFEFFa = 1\r\nstorage "file" {\r\n  path = "/tmp"\r\n}\r\n')).toEqual({
      a: 1,
      storage: { file: { path: '/tmp' } },
    });
  });

  it('does not let __proto__ keys touch prototypes', () => {
    const cfg = parseHcl('"__proto__" = { polluted = true }');
    expect(Object.hasOwn(cfg, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('parseHcl: Vault ACL policies', () => {
  it('decodes a policy with several path blocks and all comment styles', () => {
    const policy = parseHcl(`
# Hash comment
// Slash comment
/* Block
   comment */
path "secret/data/*" {
  capabilities = ["create", "read", "update", "delete", "list"] # trailing
}

path "secret/data/+/config" {
  capabilities = ["read"] // trailing
}

path "secret/metadata/team-a/*" {
  capabilities = [
    "list",
    "read", /* inline */
  ]
  allowed_parameters = {
    "version" = []
  }
}

path "sys/*" {
  capabilities = ["deny"]
}
`);
    expect(policy).toEqual({
      path: {
        'secret/data/*': { capabilities: ['create', 'read', 'update', 'delete', 'list'] },
        'secret/data/+/config': { capabilities: ['read'] },
        'secret/metadata/team-a/*': { capabilities: ['list', 'read'], allowed_parameters: { version: [] } },
        'sys/*': { capabilities: ['deny'] },
      },
    });
  });

  it('accepts the HCL1 `path "x" = { ... }` form', () => {
    expect(parseHcl('path "auth/token/lookup-self" = {\n  capabilities = ["read"]\n}\npath "x" = {}\n')).toEqual({
      path: { 'auth/token/lookup-self': { capabilities: ['read'] }, x: {} },
    });
  });

  it('accepts single-line blocks and comma-separated items', () => {
    expect(parseHcl('path "a" { capabilities = ["read"], min_wrapping_ttl = "1s" } path "b" {}')).toEqual({
      path: { a: { capabilities: ['read'], min_wrapping_ttl: '1s' }, b: {} },
    });
  });

  it('decodes heredocs, including indented <<- heredocs', () => {
    const cfg = parseHcl(`
policy = <<EOF
path "secret/*" {
  capabilities = ["read"]
}
EOF
indented = <<-EOT
    line one
      line two

    line three
    EOT
empty = <<X
X
after = 1
`);
    expect(cfg).toEqual({
      policy: 'path "secret/*" {\n  capabilities = ["read"]\n}\n',
      indented: 'line one\n  line two\n\nline three\n',
      empty: '',
      after: 1,
    });
    // The heredoc content is itself a policy.
    expect(parseHcl(cfg.policy as string)).toEqual({ path: { 'secret/*': { capabilities: ['read'] } } });
  });
});

describe('parseHcl: repeated blocks', () => {
  it('turns repeated unlabeled blocks into an array', () => {
    expect(parseHcl('seal {\n a = 1\n}\nseal {\n a = 2\n}\nseal {\n a = 3\n}\n')).toEqual({
      seal: [{ a: 1 }, { a: 2 }, { a: 3 }],
    });
  });

  it('turns a repeated labeled block with the same label into an array', () => {
    expect(parseHcl('path "a" {\n capabilities = ["read"]\n}\npath "a" {\n capabilities = ["list"]\n}\n')).toEqual({
      path: { a: [{ capabilities: ['read'] }, { capabilities: ['list'] }] },
    });
  });

  it('nests multiple labels and merges shared prefixes', () => {
    expect(parseHcl('a "x" "y" { v = 1 }\na "x" "z" { v = 2 }\na "w" "y" {}\n')).toEqual({
      a: { x: { y: { v: 1 }, z: { v: 2 } }, w: { y: {} } },
    });
  });

  it('rejects blocks with inconsistent label depth', () => {
    const err = syntaxError('storage {}\nstorage "x" {}\n');
    expect(err.line).toBe(2);
    expect(err.message).toContain('line 2');
    expect(err.message).toContain('line 1');
  });

  it('rejects an attribute and a block with the same name', () => {
    const first = syntaxError('path = "x"\npath "a" {}\n');
    expect(first.line).toBe(2);
    expect(first.message).toBe('line 2, column 1: block path "a" conflicts with attribute "path" defined at line 1');
    const err = syntaxError('path "a" {}\npath = "x"\n');
    expect(err.line).toBe(2);
    expect(err.message).toContain('conflicts with block "path" defined at line 1');
  });

  it('rejects duplicate attributes', () => {
    const err = syntaxError('path "a" {\n  capabilities = ["read"]\n  capabilities = ["list"]\n}\n');
    expect(err.line).toBe(3);
    expect(err.message).toContain('duplicate attribute "capabilities" (first defined at line 2)');
  });
});

describe('parseHcl: syntax errors', () => {
  it('reports a missing "=" with file, line and column', () => {
    const err = syntaxError('listener "tcp" {\n  tls_disable = 1\n  address "0.0.0.0:8200"\n}\n', 'ferry.hcl');
    expect(err).toMatchObject({ line: 3, column: 11, file: 'ferry.hcl' });
    expect(err.message).toBe('ferry.hcl:3:11: expected "=" after key "address", found string "0.0.0.0:8200" (line 3, column 11)');
  });

  it('reports a missing "=" before a number', () => {
    const err = syntaxError('a = 1\nmax_request_size 10\n');
    expect(err.message).toBe('line 2, column 18: expected "=" after key "max_request_size", found number 10');
    expect(err.file).toBeUndefined();
  });

  it('reports unterminated strings', () => {
    const err = syntaxError('a = 1\nb = "abc\nc = 2\n');
    expect(err).toMatchObject({ line: 2, column: 5 });
    expect(err.message).toContain('line 2');
    expect(err.message).toContain('unterminated string');
    expect(syntaxError('x = "abc').message).toContain('line 1');
  });

  it('reports an unclosed brace at the opening brace', () => {
    const err = syntaxError('path "a" {\n  capabilities = ["read"]\n\npath "b" {\n  capabilities = ["list"]\n}\n');
    expect(err).toMatchObject({ line: 1, column: 10 });
    expect(err.message).toContain('line 1');
    expect(err.message).toContain('unclosed "{" of block path "a"');
  });

  it('reports an unexpected closing brace', () => {
    const err = syntaxError('a = 1\n}\n');
    expect(err.line).toBe(2);
    expect(err.message).toContain('unexpected "}"');
  });

  it('reports unexpected tokens', () => {
    expect(syntaxError('a = = 1').message).toContain('line 1, column 5: expected a value for "a", found "="');
    expect(syntaxError('\n\na = foo\n').message).toContain('line 3, column 5: unexpected identifier "foo"');
    expect(syntaxError('a = 1 b = 2').message).toContain('line 1, column 7: expected newline or ","');
    expect(syntaxError('x = 1\n= 2').message).toContain('line 2, column 1: expected a key, found "="');
    expect(syntaxError('a = [1 2]').message).toContain('expected "," or "]"');
    expect(syntaxError('a = @').message).toContain('line 1, column 5: unexpected character "@"');
    expect(syntaxError('path "a" "b" capabilities').message).toContain('expected "{" after block path "a" "b"');
    expect(syntaxError('a =\n1').message).toContain('found newline');
  });

  it('reports unclosed lists, comments, heredocs and bad escapes with their line', () => {
    expect(syntaxError('x = 1\na = [1,\n2\n').message).toContain('line 2, column 5: unclosed "["');
    expect(syntaxError('a = [\n').message).toContain('line 1, column 5: unclosed "["');
    expect(syntaxError('x = 1\n/* never closed').message).toContain('line 2, column 1: unterminated "/*" comment');
    expect(syntaxError('x = 1\np = <<EOF\nabc\n').message).toContain('line 2, column 5: unterminated heredoc');
    expect(syntaxError('x = "\\q"').message).toContain('line 1, column 6: invalid escape sequence "\\q"');
    expect(syntaxError('x = "\\u12"').message).toContain('invalid escape sequence');
  });

  it('reports invalid and ambiguous numbers', () => {
    expect(syntaxError('ttl = 10s').message).toContain('line 1, column 7: invalid number');
    expect(syntaxError('mode = 0600').message).toContain('ambiguous number "0600"');
    expect(syntaxError('n = 99999999999999999999').message).toContain('too large');
  });

  it('counts lines through comments and heredocs', () => {
    const err = syntaxError('/* a\nb */\np = <<EOF\nx\nEOF\n# c\nbad\n');
    expect(err.line).toBe(7);
    expect(err.message).toContain('line 7');
  });
});
