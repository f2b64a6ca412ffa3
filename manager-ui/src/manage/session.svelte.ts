import { StaffSignIn } from '@qms/ui-shared/session';

// The manager's sign-in (the shared StaffSignIn): only managers and administrators get in.

export type { SessionState } from '@qms/ui-shared/session';

export interface SiteSummary {
  id: string;
  code: string;
  name: string;
  timezone: string;
}

export class ManagerSession extends StaffSignIn {
  /** the sites this manager manages (every site for an administrator) */
  sites = $state<SiteSummary[]>([]);

  constructor() {
    super('qms.manage.token');
  }

  get isAdmin(): boolean {
    return this.user?.role === 'admin';
  }

  site(siteId: string | null | undefined): SiteSummary | undefined {
    return this.sites.find((s) => s.id === siteId);
  }

  /** Sites may be added (administrators): read them again. */
  async reloadSites(): Promise<void> {
    this.sites = await this.client.sites();
  }

  protected async signedIn(): Promise<void> {
    if (this.user?.role !== 'manager' && this.user?.role !== 'admin') {
      this.state = 'not-manager';
      return;
    }
    this.sites = await this.client.sites();
    this.state = 'signed-in';
  }

  protected override cleared(): void {
    this.sites = [];
  }
}
