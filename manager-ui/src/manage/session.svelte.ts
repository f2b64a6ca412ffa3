import { ApiError, createClient, type QmsClient } from '@qms/protocol/client';
import type { AuthUser } from '@qms/protocol';
import { safeGet, safeSet } from './lib/lang.svelte.ts';

// The manager's sign-in. The token is kept in localStorage so a reload does not ask again; the
// server also sets its httpOnly session cookie. Only managers and administrators get in.

const TOKEN_KEY = 'qms.manage.token';

export type SessionState = 'checking' | 'signed-out' | 'not-manager' | 'signed-in';

export interface SiteSummary {
  id: string;
  code: string;
  name: string;
  timezone: string;
}

export class ManagerSession {
  state = $state<SessionState>('checking');
  user = $state<AuthUser | null>(null);
  /** the sites this manager manages (every site for an administrator) */
  sites = $state<SiteSummary[]>([]);
  client: QmsClient;

  constructor() {
    this.client = createClient({ token: safeGet(TOKEN_KEY) ?? undefined });
  }

  get isAdmin(): boolean {
    return this.user?.role === 'admin';
  }

  site(siteId: string | null | undefined): SiteSummary | undefined {
    return this.sites.find((s) => s.id === siteId);
  }

  async restore(): Promise<void> {
    if (!this.client.token) {
      this.state = 'signed-out';
      return;
    }
    try {
      await this.load();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.forget();
      else setTimeout(() => void this.restore(), 3000);
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
      // signed out here whatever the server says
    }
    this.forget();
  }

  forget(): void {
    safeSet(TOKEN_KEY, null);
    this.client.setToken(undefined);
    this.user = null;
    this.sites = [];
    this.state = 'signed-out';
  }

  /** Sites may be added (administrators): read them again. */
  async reloadSites(): Promise<void> {
    this.sites = await this.client.sites();
  }

  private async load(): Promise<void> {
    const me = await this.client.me();
    if (me.kind !== 'staff') {
      this.forget();
      return;
    }
    this.user = me.user;
    if (me.user.role !== 'manager' && me.user.role !== 'admin') {
      this.state = 'not-manager';
      return;
    }
    this.sites = await this.client.sites();
    this.state = 'signed-in';
  }
}
