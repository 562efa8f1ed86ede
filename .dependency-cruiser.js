/**
 * Ferry's import-graph rules, checked by dependency-cruiser (`npm run lint:imports`, part of
 * `npm run lint` and so of CI: `.ci/run`). A violation is an error and fails the build.
 *
 * Why this version, pinned exactly (package.json, 17.4.2): the meaning of a rule and how
 * TypeScript imports are resolved change between dependency-cruiser releases, so an upgrade
 * must be a deliberate change that re-checks these rules against the tree; 17.x is also the
 * last line that runs on Node 20, Ferry's minimum (18.x needs Node 22).
 *
 * Layers, imports one way (README, "Layout"):
 *   kernel ← store ← features ← http ← app
 * - kernel:   src/kernel — imports nothing of Ferry's.
 * - store:    src/store — the store port, its SQLite driver and the layers over it.
 * - features: src/{seal,audit,auth,identity,kv,sys,sync,metrics,ha} — may import each other, without circles.
 * - http:     src/http — the wire layer and the request pipeline.
 * - app:      src/app.ts, src/compose.ts, src/main.ts, src/logging.ts,
 *             src/ui-build.ts (builds the web UI's assets at start, in a clone) and src/config
 *             (the CLI flags and the server configuration file, read only by main.ts).
 */
const KERNEL = '^src/kernel/';
const STORE = '^src/store/';
const FEATURES = '^src/(seal|audit|auth|identity|kv|sys|sync|metrics|ha)/';
const HTTP = '^src/http/';
const APP = ['^src/(app|compose|main|logging|ui-build)[.]ts$', '^src/config/'];

export default {
  forbidden: [
    {
      name: 'no-folder-circle',
      comment: 'Two folders that import each other are one concern in two places; a feature must not lean on a folder that leans back on it.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-module-circle',
      comment: 'Modules that import each other cannot be read, tested or loaded one at a time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'kernel-imports-nothing-of-ferry',
      comment: 'The kernel sits below everything: errors, request and path types, field decoders, entries, service interfaces.',
      severity: 'error',
      from: { path: KERNEL },
      to: { path: '^src/', pathNot: KERNEL },
    },
    {
      name: 'store-imports-only-kernel',
      comment: 'The store is below the features: it knows keys, values and the outbox, never what a feature stores.',
      severity: 'error',
      from: { path: STORE },
      to: { path: '^src/', pathNot: [KERNEL, STORE] },
    },
    {
      name: 'features-import-no-http-or-app',
      comment: 'Domain code never knows about HTTP or how the server is wired; it takes the narrow deps it declares.',
      severity: 'error',
      from: { path: FEATURES },
      to: { path: [HTTP, ...APP] },
    },
    {
      name: 'http-imports-no-app',
      comment: 'The HTTP layer is wired by the app layer, never the other way round.',
      severity: 'error',
      from: { path: HTTP },
      to: { path: APP },
    },
    {
      name: 'fastify-only-in-http',
      comment: 'Fastify is the HTTP layer\'s business: src/http and src/app.ts, nothing else.',
      severity: 'error',
      from: { path: '^src/', pathNot: [HTTP, '^src/app[.]ts$'] },
      to: { path: '(^|/)node_modules/(fastify|@fastify/)' },
    },
    {
      name: 'sqlite-only-in-its-driver',
      comment: 'better-sqlite3 is the SQLite driver\'s; every other file talks to the store port.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/sqlite[.]ts$' },
      to: { path: '(^|/)node_modules/better-sqlite3/' },
    },
    {
      name: 'pg-only-in-its-driver',
      comment: 'pg is the PostgreSQL driver\'s (src/store/postgres*.ts); every other file talks to the store port.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/store/postgres[^/]*[.]ts$' },
      to: { path: '(^|/)node_modules/(pg|pg-[a-z-]+)/' },
    },
    {
      name: 'aws-sdk-only-in-its-adapter',
      comment: 'The AWS SDK (and @smithy, its core) is the Secrets Manager adapter\'s (src/sync/aws-sm); the emulator under test/ is not cruised.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/sync/aws-sm/' },
      to: { path: '(^|/)node_modules/(@aws-sdk|@smithy)/' },
    },
    {
      name: 'prom-client-only-in-metrics',
      comment: 'prom-client is the metrics feature\'s (src/metrics); the others record through its interfaces (RequestObserver, SyncMetrics).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/metrics/' },
      to: { path: '(^|/)node_modules/prom-client/' },
    },
    {
      name: 'metrics-imports-only-kernel',
      comment: 'Every feature may report metrics, so the metrics feature leans on nothing but the kernel: no import circle can form through it.',
      severity: 'error',
      from: { path: '^src/metrics/' },
      to: { path: '^src/', pathNot: ['^src/kernel/', '^src/metrics/'] },
    },
    {
      name: 'no-unresolvable-import',
      comment: 'An import that resolves to nothing would slip past every rule above.',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Type-only imports couple modules as much as value imports do: count them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
