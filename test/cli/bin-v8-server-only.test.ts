// The bin applies Ferry's V8 settings for `ferry server` only (bin/ferry.js).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/ferry.js', import.meta.url));
// Reports each flag set at run time on stderr.
const SPY = `data:text/javascript,${encodeURIComponent(
  "import v8 from 'node:v8'; const set = v8.setFlagsFromString; v8.setFlagsFromString = (f) => { process.stderr.write('V8FLAG ' + f + '\\n'); set(f); };",
)}`;

const run = (...args: string[]) => spawnSync(process.execPath, ['--import', SPY, BIN, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('the bin and the V8 settings', () => {
  it('sets --heap-growing-percent for `ferry server` (even one refused at once), not for `ferry version`', { timeout: 120_000 }, () => {
    const server = run('server', '-no-such-flag');
    expect(server.status).not.toBe(0);
    expect(server.stderr).toContain('V8FLAG --heap-growing-percent=50');
    const version = run('version');
    expect(version.status, version.stderr).toBe(0);
    expect(version.stderr).not.toContain('V8FLAG');
  });
});
