import { buildUiIfStale } from '../../src/ui-build.js';

/** Vitest global setup: the web UI's assets exist and are fresh before any test starts a server. */
export default async function setup(): Promise<void> {
  await buildUiIfStale();
}
