/**
 * What a site's configuration says (for an issue: its zone, service, priority group, hours,
 * holidays and procedure), kept for a few seconds so a busy kiosk does not read it for every
 * ticket. The configuration is read-mostly and none of it is locked by the reads that use it, so
 * an issue could always meet a change committed a moment before: the cache widens that moment,
 * and no more:
 * - a change made through the API is forgotten at once in this process (`forget(siteId)`, from
 *   the `site:updated` event every configuration command returns; subscribers/settings.ts);
 * - any other (another process of a cluster, SQL typed by hand, a restore) is seen within
 *   `ttlMs`: entries are never kept longer, however often they are used;
 * - a read that was in flight when something was forgotten is not kept (it may be older);
 * - only what a caller says is worth keeping is kept (an issue keeps complete settings, never a
 *   refusal: unknown ids cost a query each and cannot fill the cache), at most `max` entries.
 */
export class SiteSettingsCache<T> {
  private readonly sites = new Map<string, Map<string, { value: T; until: number }>>();
  private entries = 0;
  /** bumped by every forget: a read that started before it is not kept */
  private generation = 0;

  constructor(private readonly ttlMs: number, private readonly max = 10_000, private readonly now: () => number = () => performance.now()) {}

  async get(siteId: string, key: string, read: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    if (this.ttlMs <= 0) return read();
    const hit = this.sites.get(siteId)?.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    const generation = this.generation;
    const value = await read();
    if (generation === this.generation && keep(value)) this.put(siteId, key, value);
    return value;
  }

  /** Forgets what was kept of one site, or of every site. */
  forget(siteId?: string): void {
    this.generation++;
    if (siteId === undefined) {
      this.sites.clear();
      this.entries = 0;
      return;
    }
    this.entries -= this.sites.get(siteId)?.size ?? 0;
    this.sites.delete(siteId);
  }

  private put(siteId: string, key: string, value: T): void {
    if (this.entries >= this.max) this.forget();
    let site = this.sites.get(siteId);
    if (!site) this.sites.set(siteId, (site = new Map()));
    if (!site.has(key)) this.entries++;
    site.set(key, { value, until: this.now() + this.ttlMs });
  }
}
