/** Circuit breaker: opens after N failures within a window, half-opens after a pause to probe. */
export type BreakerState = "closed" | "open" | "half-open";

export class CircuitBreaker {
  private failures: number[] = [];
  private openedAt = 0;
  private probing = false;
  private current: BreakerState = "closed";

  /** `onChange` hears each change of state (the breaker gauge), and the initial closed state now. */
  constructor(
    private readonly threshold: number,
    private readonly windowMs: number,
    private readonly openMs: number,
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {
    onChange("closed");
  }

  get state(): BreakerState {
    return this.current;
  }

  private become(state: BreakerState): void {
    if (state === this.current) return;
    this.current = state;
    this.onChange(state);
  }

  /** May the primary be tried now? In half-open state one probe goes through at a time. */
  allow(now?: number): boolean {
    // the closed state, every request's case, reads no clock
    if (this.current === "closed") return true;
    if (this.current === "open" && (now ?? Date.now()) - this.openedAt >= this.openMs) {
      this.become("half-open");
      this.probing = false;
    }
    if (this.current === "half-open" && !this.probing) {
      this.probing = true;
      return true;
    }
    return false;
  }

  success(): void {
    if (this.failures.length > 0) this.failures = [];
    this.become("closed");
    this.probing = false;
  }

  failure(now = Date.now()): void {
    if (this.current === "half-open") {
      this.become("open");
      this.openedAt = now;
      this.probing = false;
      return;
    }
    this.failures = this.failures.filter((t) => now - t < this.windowMs);
    this.failures.push(now);
    if (this.failures.length >= this.threshold) {
      this.become("open");
      this.openedAt = now;
    }
  }
}
