import { ApiError, createClient, type QmsClient } from '@qms/protocol/client';
import type { AuthUser } from '@qms/protocol';
import { safeGet, safeSet } from './lang.svelte.ts';

// A staff sign-in (counter terminal, manager console). The token is kept in localStorage so a
// reload (or a browser restart) does not ask for the password again; the server also sets its
// httpOnly session cookie. Each screen adds what it reads after sign-in in `signedIn`.

export type SessionState = 'checking' | 'signed-out' | 'not-manager' | 'signed-in';
export type Me = Awaited<ReturnType<QmsClient['me']>> & { kind: 'staff' };

export abstract class StaffSignIn {
  state = $state<SessionState>('checking');
  user = $state<AuthUser | null>(null);
  readonly client: QmsClient;

  constructor(private readonly tokenKey: string) {
    this.client = createClient({ token: safeGet(tokenKey) ?? undefined });
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
      // the server is unreachable: try again shortly rather than asking for the password
      else setTimeout(() => void this.restore(), 3000);
    }
  }

  async login(username: string, password: string): Promise<void> {
    const { token } = await this.client.login(username.trim(), password);
    safeSet(this.tokenKey, token);
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

  /** The token stopped working (expired, or the account was disabled), or the user signed out. */
  forget(): void {
    safeSet(this.tokenKey, null);
    this.client.setToken(undefined);
    this.user = null;
    this.cleared();
    this.state = 'signed-out';
  }

  /** What the screen reads once the account is known; sets `state`. */
  protected abstract signedIn(me: Me): Promise<void>;

  /** What the screen forgets on sign-out. */
  protected cleared(): void {}

  private async load(): Promise<void> {
    const me = await this.client.me();
    if (me.kind !== 'staff') {
      this.forget();
      return;
    }
    this.user = me.user;
    await this.signedIn(me);
  }
}
