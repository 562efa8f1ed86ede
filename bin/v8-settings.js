// V8 settings Ferry runs with, applied by the bin before the server loads (and by the benchmark's
// server target, `bench/targets/ferry-server.ts`, so that its figures are the product's).
//
// --heap-growing-percent=50: after each full collection V8 lets the old generation grow to 1.5×
// what survived it before the next one. By default it allows up to 4× on a machine with memory
// to spare, and a server whose live heap is ~40 MB (100,000 KV secrets, 10,000 sync
// associations) kept 145–170 MB of heap and peaked at 301 MB resident in the sync-scale bench;
// with 1.5× it peaked at 230 MB (README, Benchmarks). The cost is more frequent full collections
// (each of a small heap). Unlike --max-old-space-size it sets no ceiling: a larger store only
// collects more often, it is never refused memory.
//
// Set at run time (`v8.setFlagsFromString`) because Node refuses this flag in NODE_OPTIONS and a
// bin cannot put flags on its own command line portably; V8 reads it at every collection, so
// setting it before the server allocates anything has the effect of the command-line flag. A
// value given on the command line or in NODE_OPTIONS wins.
import process from 'node:process';
import v8 from 'node:v8';

/** The flags, as V8 spells them. */
export const V8_SETTINGS = ['--heap-growing-percent=50'];

/** Applies each of `V8_SETTINGS` not already given to this process (`node --flag`, or NODE_OPTIONS where Node allows it). */
export function applyV8Settings() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (const flag of V8_SETTINGS) {
    const name = flag.split('=')[0];
    const spelled = [name, `--${name.slice(2).replaceAll('-', '_')}`];
    if (!given.some((arg) => spelled.some((s) => arg === s || arg.startsWith(`${s}=`)))) v8.setFlagsFromString(flag);
  }
}
