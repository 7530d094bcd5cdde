// Numeric keys seen within a time window, in two generations of plain Maps: a key is kept at
// least `windowMs` after it was added (unless a generation fills up, which only shortens how
// long keys are remembered), and memory is bounded by two generations. Nothing is allocated
// up front and nothing is scanned to expire: a generation is dropped whole.

export class RecentKeys {
  private readonly windowMs: number;
  private readonly maxPerGeneration: number;
  private current = new Map<number, number>();
  private previous = new Map<number, number>();
  private rotatedAtMs = -Infinity;

  constructor(windowMs: number, maxPerGeneration: number) {
    this.windowMs = windowMs;
    this.maxPerGeneration = maxPerGeneration;
  }

  /** Whether `key` was added less than windowMs before `nowMs`. */
  has(key: number, nowMs: number): boolean {
    const at = this.current.get(key) ?? this.previous.get(key);
    return at !== undefined && nowMs - at < this.windowMs;
  }

  add(key: number, nowMs: number): void {
    if (nowMs - this.rotatedAtMs >= this.windowMs || this.current.size >= this.maxPerGeneration) {
      this.previous = this.current;
      this.current = new Map();
      this.rotatedAtMs = nowMs;
    }
    this.current.set(key, nowMs);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
