#!/usr/bin/env node
// In a git checkout (src/ is there) the bin runs the TypeScript sources through tsx, a dev
// dependency, so that the README's commands work right after `npm ci` and a stale dist/ can
// never shadow newer code. A packed release and the container image carry no src/: they run
// the compiled dist/ (`npm run build`) with production dependencies only.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { applyV8Settings } from './v8-settings.js';

// Before the server allocates anything (see v8-settings.js). Only for `server`: setting a V8 flag
// at run time makes Node set aside its built-in code cache (about 50 ms more CPU to start), which
// a short command such as `ferry version` gains nothing for.
if (process.argv[2] === 'server') applyV8Settings();

const sources = new URL('../src/main.ts', import.meta.url);
if (existsSync(sources)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(
      'This is a source checkout: its bin runs src/ through tsx, a dev dependency. Run `npm ci` (with dev\n' +
        'dependencies), or build with `npm run build` and run `node dist/main.js`.\n',
    );
    process.exit(1);
  }
  register();
  await import(sources.href);
} else {
  await import('../dist/main.js');
}
