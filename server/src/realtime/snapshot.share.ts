/**
 * One snapshot per site for every screen that connects within a short window, instead of one
 * per socket: after a restart the 150 screens of a site reconnect within seconds, and each used
 * to cost nine queries and a 10-20 kB payload of its own.
 *
 * A shared snapshot is only handed to a socket that has already joined the site's room, so every
 * event after the snapshot's build began reaches the socket directly. Any committed event of the
 * site drops the shared snapshot (`invalidate`, called from publish and for events that another
 * process published), so a socket that joins later never receives one that misses an event it
 * was not in the room for. A socket whose build was overtaken by an event while it waited gets
 * a newer build, so the snapshot is never older than the events it already saw.
 */
export class SnapshotShare<T> {
  private readonly entries = new Map<string, { promise: Promise<T>; started: number; stale: boolean }>();
  /** snapshots built so far (each is one set of queries) */
  builds = 0;

  constructor(
    private readonly build: (siteId: string) => Promise<T>,
    /** how long a built snapshot may be handed out when nothing happened at the site */
    private readonly ttlMs = 2000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async get(siteId: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      let entry = this.entries.get(siteId);
      if (!entry || this.now() - entry.started > this.ttlMs) {
        this.builds++;
        const created = { promise: this.build(siteId), started: this.now(), stale: false };
        this.entries.set(siteId, created);
        created.promise.catch(() => {
          if (this.entries.get(siteId) === created) this.entries.delete(siteId);
        });
        entry = created;
      }
      const value = await entry.promise;
      // an event overtook the build we waited for: take a newer one (twice at most, then this one)
      if (!entry.stale || attempt >= 2) return value;
    }
  }

  /** Something of the site was committed: later sockets need a new build. */
  invalidate(siteId: string): void {
    const entry = this.entries.get(siteId);
    if (!entry) return;
    entry.stale = true;
    this.entries.delete(siteId);
  }
}
