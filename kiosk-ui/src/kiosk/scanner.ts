// A 2D scanner plugged in as a keyboard ("keyboard wedge") types what it read, a character
// every few milliseconds, then Enter. A person types a key every 100 ms or so, and never most of
// a dozen keys under 50 ms apart: a burst of at least MIN_LENGTH characters whose typical (median)
// gap is a scanner's, closed by Enter, is a scan. The median, not every gap: a busy machine
// may hold a scanner's key back once in a while. A pause of IDLE_MS ends any burst. The
// characters are held only until that Enter (or pause), then dropped: a scan may carry an ID
// card's number and a name.

/** a scanner's characters come closer than this; a person's keys do not, most of the time */
export const MAX_GAP_MS = 50;
/** no key for this long: whatever was typed before is not part of the next burst */
export const IDLE_MS = 400;
/** the shortest scan sent (CheckInRequest's `scan` has at least 4 characters) */
export const MIN_LENGTH = 4;

export interface KeyInput {
  key: string;
  /** the event's timeStamp (ms) */
  at: number;
  repeat?: boolean;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
}

export interface KeyVerdict {
  /**
   * The key belongs to a burst that looks like a scan: it must not reach the screen (a focused
   * button would take a space or Enter as a press). The first key of a burst cannot be told
   * from a person's and is let through.
   */
  swallow: boolean;
  /** the burst ended with this Enter: what was scanned, for one request and nothing else */
  scan?: string;
}

export class ScanDetector {
  private chars: string[] = [];
  private gaps: number[] = [];
  private lastAt = -Infinity;

  /** One keydown; `key` as KeyboardEvent.key. */
  keydown(input: KeyInput): KeyVerdict {
    const gap = input.at - this.lastAt;
    if (gap > IDLE_MS) this.reset();
    if (input.repeat || input.ctrlKey || input.altKey || input.metaKey) {
      this.reset();
      return { swallow: false };
    }
    if (input.key === 'Enter') {
      const scan = this.chars.length >= MIN_LENGTH && this.fast(gap) ? this.chars.join('') : undefined;
      const swallow = this.chars.length > 1 && this.fast(gap);
      this.reset();
      return scan === undefined ? { swallow } : { swallow: true, scan };
    }
    if (input.key.length !== 1) {
      // Shift comes between a scan's capitals and does not break it; keys a scanner does not
      // type (arrows, Escape, Tab) do
      if (input.key === 'Shift') return { swallow: this.chars.length > 1 && this.fast() };
      this.reset();
      return { swallow: false };
    }
    if (this.chars.length) this.gaps.push(gap);
    this.chars.push(input.key);
    this.lastAt = input.at;
    return { swallow: this.chars.length > 1 && this.fast() };
  }

  /** characters in the burst so far (1: this key may begin a scan) */
  get length(): number {
    return this.chars.length;
  }

  /** Forgets the burst (a scan taken, a person's key, a pause, a screen change). */
  reset(): void {
    this.chars = [];
    this.gaps = [];
    this.lastAt = -Infinity;
  }

  /** the burst's gaps (and the one to the key now, if any) are a scanner's, by their median */
  private fast(next?: number): boolean {
    const gaps = next === undefined ? [...this.gaps] : [...this.gaps, next];
    if (!gaps.length) return false;
    gaps.sort((a, b) => a - b);
    // the upper median: of two gaps, one a person's, the burst is a person's
    return gaps[Math.floor(gaps.length / 2)]! <= MAX_GAP_MS;
  }
}
