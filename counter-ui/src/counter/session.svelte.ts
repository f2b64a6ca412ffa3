import { ApiError, createClient, type QmsClient } from '@qms/protocol/client';
import type { AuthUser } from '@qms/protocol';
import { safeGet, safeSet } from '../lib/lang.svelte.ts';

// The official's sign-in. The token is kept in localStorage so a reload (or a browser restart)
// does not ask for the password again; the server also sets its httpOnly session cookie.

const TOKEN_KEY = 'qms.counter.token';
const SITE_KEY = 'qms.counter.siteId';

export type SessionState = 'checking' | 'signed-out' | 'signed-in';

export class StaffSession {
  state = $state<SessionState>('checking');
  user = $state<AuthUser | null>(null);
  /** sites the official belongs to ([] for an administrator: every site) */
  siteIds = $state<string[]>([]);
  sites = $state<{ id: string; name: string }[]>([]);
  siteId = $state<string | null>(null);
  client: QmsClient;

  constructor() {
    this.client = createClient({ token: safeGet(TOKEN_KEY) ?? undefined });
  }

  /** Resumes a remembered session, or shows the sign-in form. */
  async restore(): Promise<void> {
    if (!this.client.token) {
      this.state = 'signed-out';
      return;
    }
    try {
      await this.load();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.forget();
      else {
        // the server is unreachable: try again shortly rather than asking for the password
        setTimeout(() => void this.restore(), 3000);
      }
    }
  }

  async login(username: string, password: string): Promise<void> {
    const { token } = await this.client.login(username.trim(), password);
    safeSet(TOKEN_KEY, token);
    await this.load();
  }

  async logout(): Promise<void> {
    try {
      await this.client.logout();
    } catch {
      // signed out locally whatever the server says
    }
    this.forget();
  }

  /** The token stopped working (expired, or the account was disabled). */
  forget(): void {
    safeSet(TOKEN_KEY, null);
    this.client.setToken(undefined);
    this.user = null;
    this.state = 'signed-out';
  }

  chooseSite(siteId: string): void {
    this.siteId = siteId;
    safeSet(SITE_KEY, siteId);
  }

  private async load(): Promise<void> {
    const me = await this.client.me();
    if (me.kind !== 'staff') {
      this.forget();
      return;
    }
    const sites = await this.client.sites();
    this.user = me.user;
    this.siteIds = me.siteIds;
    this.sites = sites.map((s) => ({ id: s.id, name: s.name }));
    const remembered = safeGet(SITE_KEY);
    const usable = sites.map((s) => s.id);
    this.siteId = usable.length === 1 ? usable[0]! : remembered && usable.includes(remembered) ? remembered : null;
    this.state = 'signed-in';
  }
}
