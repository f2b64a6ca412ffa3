import { safeGet, safeSet } from '@qms/ui-shared/lang';
import { StaffSignIn, type Me } from '@qms/ui-shared/session';

// The official's sign-in (the shared StaffSignIn) and the site this browser works for.

const SITE_KEY = 'qms.counter.siteId';

export type { SessionState } from '@qms/ui-shared/session';

export class StaffSession extends StaffSignIn {
  /** sites the official belongs to ([] for an administrator: every site) */
  siteIds = $state<string[]>([]);
  sites = $state<{ id: string; name: string }[]>([]);
  siteId = $state<string | null>(null);

  constructor() {
    super('qms.counter.token');
  }

  chooseSite(siteId: string): void {
    this.siteId = siteId;
    safeSet(SITE_KEY, siteId);
  }

  protected async signedIn(me: Me): Promise<void> {
    const sites = await this.client.sites();
    this.siteIds = me.siteIds;
    this.sites = sites.map((s) => ({ id: s.id, name: s.name }));
    const remembered = safeGet(SITE_KEY);
    const usable = sites.map((s) => s.id);
    this.siteId = usable.length === 1 ? usable[0]! : remembered && usable.includes(remembered) ? remembered : null;
    this.state = 'signed-in';
  }
}
