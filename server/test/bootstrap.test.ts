import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoIfEmpty } from '@qms/db';
import { createTestDatabase, type TestDatabase } from '@qms/db/testing';
import { AuthService } from '../src/auth/auth.service.ts';
import { ensureDemoAccess, officialsLine } from '../src/auth/bootstrap.ts';
import { SiteConfigService } from '../src/config/site-config.service.ts';

// What `npm start` prints about the demo officials. Found in use: after a manager added counter 7
// in the console, every start said "Officials canbo1, …, canbo7 sign in", but canbo7 was never
// created (the officials are made once, on the first start). The line names the accounts there are.

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedDemoIfEmpty(t.db);
});
afterAll(() => t?.drop());

const SIX = ['canbo1', 'canbo2', 'canbo3', 'canbo4', 'canbo5', 'canbo6'];

describe('the startup message of the demo officials', () => {
  it('names the officials the first start created, with their password once', async () => {
    const demo = (await ensureDemoAccess(t.db, new AuthService(t.db), 'demo-password'))!;
    expect(demo.staffUsernames).toEqual(SIX);
    expect(officialsLine(demo)).toBe(`Officials ${SIX.join(', ')} sign in at /counter/ with password: demo-password (shown once)`);
    const auth = new AuthService(t.db);
    for (const username of demo.staffUsernames) expect((await auth.login(username, 'demo-password')).token).toBeTruthy();
  });

  it('never names an account that does not exist (a counter added later) or cannot sign in (disabled)', async () => {
    const site = await t.db.selectFrom('site').select('id').where('code', '=', 'PHUONG-DONG-CAM').executeTakeFirstOrThrow();
    await new SiteConfigService(t.db).createCounter(site.id, { number: 7, name: 'Quầy 7', serviceIds: [] });
    await t.db.updateTable('appUser').set({ active: false }).where('username', '=', 'canbo6').execute();

    const demo = (await ensureDemoAccess(t.db, new AuthService(t.db), undefined))!;
    expect(await t.db.selectFrom('appUser').select('id').where('username', '=', 'canbo7').execute()).toEqual([]);
    expect(demo.staffUsernames).toEqual(SIX.slice(0, 5));
    expect(officialsLine(demo)).toBe(`Officials ${SIX.slice(0, 5).join(', ')} sign in at /counter/.`);

    await t.db.updateTable('appUser').set({ active: false }).where('username', 'like', 'canbo%').execute();
    expect(officialsLine((await ensureDemoAccess(t.db, new AuthService(t.db), undefined))!)).toBeUndefined();
  });
});
