/**
 * The delivery loop's idle wait: a poll interval, cut short when something is enqueued — after
 * a short pause, so that a burst of enqueues is claimed as one batch. A ring while nobody waits
 * does nothing (the loop is busy and will claim it in its next round).
 */
export class Doorbell {
  private ringing: (() => void) | undefined;

  constructor(
    private readonly pollMs: number,
    private readonly pauseMs: number,
  ) {}

  async wait(): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.pollMs);
      this.ringing = () => {
        clearTimeout(timer);
        setTimeout(resolve, this.pauseMs);
      };
    });
    this.ringing = undefined;
  }

  ring(): void {
    this.ringing?.();
  }
}
