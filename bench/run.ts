/**
 * `npm run bench [-- <name>…]`: runs the named benchmarks (all when none is named). Each
 * benchmark is a module exporting `run(): Promise<boolean>` (false = a target was missed,
 * which sets a non-zero exit code); add new ones (sync, …) to the registry below.
 */
const BENCHMARKS: Record<string, () => Promise<{ run(): Promise<boolean> }>> = {
  kv: () => import('./kv.js'),
  sync: () => import('./sync.js'),
  templates: () => import('./templates.js'),
  json: () => import('./json.js'),
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = requested.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; available: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}
let allMet = true;
for (const name of requested.length > 0 ? requested : Object.keys(BENCHMARKS)) {
  process.stdout.write(`\n== ${name} ==\n`);
  const bench = await BENCHMARKS[name]!();
  if (!(await bench.run())) allMet = false;
}
if (!allMet) process.exitCode = 1;
