/** Circuit breaker: opens after N failures within a window, half-opens after a pause to probe. */
export type BreakerState = "closed" | "open" | "half-open";

export class CircuitBreaker {
  private failures: number[] = [];
  private openedAt = 0;
  private probing = false;
  state: BreakerState = "closed";

  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly openMs: number,
  ) {}

  /** May the primary be tried now? In half-open state one probe goes through at a time. */
  allow(now?: number): boolean {
    // the closed state, every request's case, reads no clock
    if (this.state === "closed") return true;
    if (this.state === "open" && (now ?? Date.now()) - this.openedAt >= this.openMs) {
      this.state = "half-open";
      this.probing = false;
    }
    if (this.state === "half-open" && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    if (this.failures.length > 0) this.failures = [];
    this.state = "closed";
    this.probing = false;
  }

  failure(now = Date.now()): void {
    if (this.state === "half-open") {
      this.state = "open";
      this.openedAt = now;
      this.probing = false;
      return;
    }
    this.failures = this.failures.filter((t) => now - t < this.windowMs);
    this.failures.push(now);
    if (this.failures.length >= this.threshold) {
      this.state = "open";
      this.openedAt = now;
    }
  }
}
