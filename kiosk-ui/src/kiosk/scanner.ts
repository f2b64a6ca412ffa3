// A 2D scanner plugged in as a keyboard ("keyboard wedge") types what it read, a character
// every few milliseconds, then Enter. A person types a key every 100 ms or so and never a
// dozen in a row under 50 ms: a burst of at least MIN_LENGTH characters, each close behind the
// one before, closed by Enter, is a scan. The characters are held only until that Enter (or
// until the burst stops), then dropped: a scan may carry an ID card's number and a name.

/** a scanner's characters come closer than this; a person's keys do not, several in a row */
export const MAX_GAP_MS = 50;
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
   * The key belongs to a burst that is becoming a scan: it must not reach the screen (a focused
   * button would take a space or Enter as a press). The first key of a burst cannot be told
   * from a person's and is let through.
   */
  swallow: boolean;
  /** the burst ended with this Enter: what was scanned, for one request and nothing else */
  scan?: string;
}

export class ScanDetector {
  private chars: string[] = [];
  private lastAt = -Infinity;

  /** One keydown; `key` as KeyboardEvent.key. */
  keydown(input: KeyInput): KeyVerdict {
    const fast = input.at - this.lastAt <= MAX_GAP_MS;
    if (!fast) this.chars = [];
    if (input.repeat || input.ctrlKey || input.altKey || input.metaKey) {
      this.reset();
      return { swallow: false };
    }
    if (input.key === 'Enter') {
      const chars = this.chars;
      this.reset();
      if (fast && chars.length >= MIN_LENGTH) return { swallow: true, scan: chars.join('') };
      return { swallow: fast && chars.length > 1 };
    }
    if (input.key.length !== 1) {
      // Shift, and keys a scanner does not type (arrows, Escape): Shift is pressed between
      // letters of a scan and must not break it
      if (input.key === 'Shift') return { swallow: this.chars.length > 1 };
      this.reset();
      return { swallow: false };
    }
    this.chars.push(input.key);
    this.lastAt = input.at;
    return { swallow: this.chars.length > 1 };
  }

  /** characters in the burst so far (1: this key may begin a scan) */
  get length(): number {
    return this.chars.length;
  }

  /** Forgets the burst (a scan taken, a person's key, a screen change). */
  reset(): void {
    this.chars = [];
    this.lastAt = -Infinity;
  }
}
