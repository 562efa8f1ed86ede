/**
 * `npm run bench [-- <name>…] [--runs N]`: runs the named benchmarks (all when none is named).
 * Each benchmark is a module exporting `run(opts): Promise<boolean>` (false = a target was
 * missed, which sets a non-zero exit code); add new ones to the registry below. `--runs N`
 * repeats the KV benchmark N times, printing every run and judging its targets on the medians
 * (the others run once).
 */
interface Options {
  runs: number;
}

const BENCHMARKS: Record<string, () => Promise<{ run(opts: Options): Promise<boolean> }>> = {
  kv: () => import('./kv.js'),
  'kv-pg': () => import('./kv-pg.js'),
  sync: () => import('./sync.js'),
  'sync-scale': () => import('./sync-scale.js'),
  'sync-ha': () => import('./sync-ha.js'),
  templates: () => import('./templates.js'),
  json: () => import('./json.js'),
  bulk: () => import('./bulk.js'),
};

function parseArgs(argv: string[]): { names: string[]; options: Options } {
  const names: string[] = [];
  const options: Options = { runs: 1 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const runs = arg === '--runs' ? argv[++i] : arg.startsWith('--runs=') ? arg.slice('--runs='.length) : undefined;
    if (runs !== undefined) {
      options.runs = Number(runs);
      if (!Number.isInteger(options.runs) || options.runs < 1) usage(`--runs needs a whole number ≥ 1, got "${runs}"`);
    } else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
    else names.push(arg);
  }
  return { names, options };
}

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run bench [-- <name>…] [--runs N]; benchmarks: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}

const { names, options } = parseArgs(process.argv.slice(2));
const unknown = names.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) usage(`unknown benchmark(s): ${unknown.join(', ')}`);
let allMet = true;
for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
  process.stdout.write(`\n== ${name} ==\n`);
  const bench = await BENCHMARKS[name]!();
  if (!(await bench.run(options))) allMet = false;
}
if (!allMet) process.exitCode = 1;
