/**
 * `npm run build:ui` (part of `npm run build`): builds the web UI into dist-ui/ with Vite when it
 * is missing or older than its sources — the step the container image's build stage runs, so
 * the image serves the UI without a bundler. Safe beside a starting server (one build at a time).
 */
import { buildUiIfStale } from '../src/ui-build.js';

const built = await buildUiIfStale();
process.stdout.write(built ? 'web UI built into dist-ui/\n' : 'web UI up to date (dist-ui/)\n');
