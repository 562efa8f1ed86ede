/**
 * Vitest global setup for the PostgreSQL test support (`postgres.ts`): hands every test file a
 * run directory where the first file that needs PostgreSQL records the cluster it started, and
 * stops that cluster when the run ends. Nothing starts unless a file asks, so a run without
 * PostgreSQL tests pays nothing. It also stops clusters that earlier runs, killed before their
 * teardown, left running.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { stopClusterSync, sweepAbandonedClusters } from './pg-cluster.js';

export default function setup(project: TestProject): () => void {
  sweepAbandonedClusters();
  const runDir = mkdtempSync(join(tmpdir(), 'ferry-pg-run-'));
  // The cluster a file starts for the run is owned by this process, which outlives every file.
  writeFileSync(join(runDir, 'owner.pid'), String(process.pid));
  project.provide('ferryPgRunDir', runDir);
  return () => {
    const record = join(runDir, 'cluster.json');
    if (existsSync(record)) {
      const { dataDir } = JSON.parse(readFileSync(record, 'utf8')) as { dataDir: string };
      if (dataDir) stopClusterSync(join(dataDir, '..'));
    }
    rmSync(runDir, { recursive: true, force: true });
  };
}
