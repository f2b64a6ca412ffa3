import { sql } from 'kysely';
import type { Db } from '@qms/db';
import type { Principal } from '../auth/principal.ts';
import { DEVICE_TOKEN_PREFIX, tokenHash } from '../auth/tokens.ts';

// After a restart every screen of every site opens its socket within a few seconds. Two
// statements per screen (who is it, and "seen now") become a few statements per event-loop
// turn: the handshakes of one turn are looked up together, and "seen" marks are written
// together a little later.

/**
 * Device tokens of socket handshakes, looked up together (one query for every handshake that
 * arrived in the same event-loop turn). The same rule as AuthService.resolve for a device:
 * the token's hash must match a device that is not revoked. Nothing is cached, so a revoked
 * device is refused from the moment its revocation committed.
 */
export class DeviceTokens {
  private batch = new Map<string, ((principal: Principal | undefined, error?: unknown) => void)[]>();
  private scheduled = false;

  constructor(private readonly db: Db) {}

  static handles(token: string | undefined): token is string {
    return !!token && token.length <= 200 && token.startsWith(DEVICE_TOKEN_PREFIX);
  }

  resolve(token: string): Promise<Principal | undefined> {
    return new Promise((resolve, reject) => {
      const hash = tokenHash(token);
      const waiters = this.batch.get(hash) ?? [];
      waiters.push((principal, error) => (error ? reject(error) : resolve(principal)));
      this.batch.set(hash, waiters);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = new Map();
    this.scheduled = false;
    try {
      const rows = await this.db.selectFrom('device').select(['id', 'siteId', 'kind', 'name', 'counterId', 'tokenHash'])
        .where('tokenHash', 'in', [...batch.keys()]).where('revokedAt', 'is', null).execute();
      const byHash = new Map(rows.map((d) => [d.tokenHash, d]));
      for (const [hash, waiters] of batch) {
        const d = byHash.get(hash);
        const principal: Principal | undefined = d
          ? { kind: 'device', device: { id: d.id, siteId: d.siteId, kind: d.kind, name: d.name, counterId: d.counterId } }
          : undefined;
        for (const w of waiters) w(principal);
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const w of waiters) w(undefined, error);
    }
  }
}

/**
 * last_seen_at of devices, written together every `intervalMs` (each device with the time it
 * was marked, not the time of the write: the monitor's offline alert says when it went away).
 * A mark never moves last_seen_at back: the site monitor writes "seen now" for connected
 * devices, and a mark made before its tick but written after it must not undo that.
 */
export class SeenMarks {
  private marks = new Map<string, Date>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db, private readonly onError: (error: unknown) => void, private readonly intervalMs = 50) {}

  mark(deviceId: string, at: Date): void {
    this.marks.set(deviceId, at);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writing.then(() => this.write());
    }, this.intervalMs);
  }

  /** Writes what is marked (shutdown: the devices' disconnects are recorded). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.write());
    await this.writing;
  }

  private async write(): Promise<void> {
    if (!this.marks.size) return;
    const marks = this.marks;
    this.marks = new Map();
    const ids = [...marks.keys()];
    const ats = ids.map((id) => marks.get(id)!.toISOString());
    try {
      await sql`
        UPDATE device SET last_seen_at = GREATEST(device.last_seen_at, seen.at)
        FROM unnest(${ids}::uuid[], ${ats}::timestamptz[]) AS seen(id, at)
        WHERE device.id = seen.id`.execute(this.db);
    } catch (error) {
      this.onError(error);
    }
  }
}
