/**
 * Regenerates `openapi/openapi.json` from the route declarations (`npm run openapi`), or
 * with `--check` fails when the committed document is stale (CI runs that).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer, FERRY_VERSION } from '../src/compose.js';
import { buildOpenApi } from '../src/http/openapi.js';

const target = fileURLToPath(new URL('../openapi/openapi.json', import.meta.url));

export async function generateOpenApi(): Promise<string> {
  const server = await createServer({ storagePath: ':memory:', dev: true });
  try {
    return JSON.stringify(buildOpenApi(server.documented, FERRY_VERSION), null, 2) + '\n';
  } finally {
    await server.close();
  }
}

const text = await generateOpenApi();
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // missing counts as stale
  }
  if (committed !== text) {
    process.stderr.write('openapi/openapi.json is stale: run `npm run openapi` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('openapi/openapi.json is up to date.\n');
} else {
  writeFileSync(target, text);
  process.stdout.write(`wrote ${target}\n`);
}
