import type { UserRole } from '@qms/db';
import type { DeviceKind, KioskPrinter } from '@qms/protocol';

/** Whoever is calling: an official/manager/admin, or a paired device. */
export type Principal =
  | {
      kind: 'staff';
      sessionId: string;
      /** when the session ends (ms since the epoch): open sockets close then */
      expiresAt: number;
      user: { id: string; username: string; displayName: string; role: UserRole };
      /** sites they belong to; admins may act on every site */
      siteIds: string[];
    }
  | {
      kind: 'device';
      device: {
        id: string; siteId: string; kind: DeviceKind; name: string; counterId: string | null;
        /** a kiosk's printer as stored (null: none), so an issue does not read it again; absent: not read */
        printer?: KioskPrinter | null;
      };
    };

export type StaffPrincipal = Extract<Principal, { kind: 'staff' }>;
export type DevicePrincipal = Extract<Principal, { kind: 'device' }>;

export const isAdmin = (p: Principal | undefined) => p?.kind === 'staff' && p.user.role === 'admin';

/** Staff (of any role) who belong to the site, or an admin. */
export function staffOfSite(p: Principal | undefined, siteId: string): p is StaffPrincipal {
  return p?.kind === 'staff' && (p.user.role === 'admin' || p.siteIds.includes(siteId));
}

/** Managers of the site, or an admin. */
export function managerOfSite(p: Principal | undefined, siteId: string): p is StaffPrincipal {
  return staffOfSite(p, siteId) && (p.user.role === 'admin' || p.user.role === 'manager');
}

export function deviceOfSite(p: Principal | undefined, siteId: string, kinds?: DeviceKind[]): p is DevicePrincipal {
  return p?.kind === 'device' && p.device.siteId === siteId && (!kinds || kinds.includes(p.device.kind));
}
