/**
 * CPU time of a benchmark target, as the target process itself counts it: the parent asks
 * over the IPC channel and the target answers with `process.cpuUsage()` (user + system, all
 * of its threads). Reading the server's own counters keeps the figure independent of the
 * load generator, which shares the machine's cores with it.
 */

/** Microseconds of CPU time a process has used since it started. */
export interface CpuTime {
  user: number;
  system: number;
}

export const CPU_QUERY = 'ferry-bench:cpu';

/** Called by each target at start: answers the parent's CPU queries. */
export function answerCpuQueries(): void {
  process.on('message', (message) => {
    if (message === CPU_QUERY) process.send?.(process.cpuUsage());
  });
}
