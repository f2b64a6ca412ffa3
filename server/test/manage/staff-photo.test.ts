import { crc32, deflateSync } from 'node:zlib';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth.service.ts';
import { PHOTO_MAX_BYTES } from '../../src/photos/photo.routes.ts';
import { apiFixture, bearer, listenLocally, PASSWORD, type ApiFixture } from '../support/api-fixture.ts';
import { TestClock } from '../support/queue-fixture.ts';
import { nextEvent, SocketClients } from '../support/sockets.ts';

// An official's photo: uploaded by a manager of the official's sites, stored re-encoded in
// PostgreSQL, read by the site's devices and staff (with an ETag), named by URL in the counter,
// the snapshot and rating:requested, and refused for everything that is not a photo or not theirs.

let f: ApiFixture;
let base: string;
let otherManager: string;
const clock = new TestClock('2026-11-24T02:00:00Z');
const sockets = new SocketClients(() => base);

beforeAll(async () => {
  f = await apiFixture({ clock: clock.now });
  base = await listenLocally(f.app);
  const auth = new AuthService(f.t.db);
  await auth.createUser({ username: 'quanly.tinh', password: PASSWORD, displayName: 'Quản lý tỉnh', role: 'manager', siteIds: [f.otherSiteId] });
  otherManager = (await auth.login('quanly.tinh', PASSWORD)).token;
});
afterAll(async () => {
  sockets.closeAll();
  await f?.app.close();
  await f?.t.drop();
});

const photoPath = (userId: string) => `/api/v1/users/${userId}/photo`;
const put = (userId: string, token: string | null, body: Buffer, contentType = 'image/jpeg') =>
  f.app.inject({ method: 'PUT', url: photoPath(userId), headers: { ...(token ? bearer(token) : {}), 'content-type': contentType }, payload: body });
const get = (userId: string, token: string | null, headers: Record<string, string> = {}) =>
  f.app.inject({ method: 'GET', url: photoPath(userId), headers: { ...(token ? bearer(token) : {}), ...headers } });
const del = (userId: string, token: string | null) =>
  f.app.inject({ method: 'DELETE', url: photoPath(userId), headers: token ? bearer(token) : {} });
const stored = () => f.t.db.selectFrom('staffPhoto').selectAll().execute();

/** A camera-like JPEG: 1600 x 1200, with an EXIF block (a GPS-ish note) and a comment that must not survive. */
async function cameraJpeg(): Promise<Buffer> {
  const canvas = createCanvas(1600, 1200);
  const g = canvas.getContext('2d');
  g.fillStyle = '#1d4ed8';
  g.fillRect(0, 0, 800, 1200);
  g.fillStyle = '#f59e0b';
  g.fillRect(800, 0, 800, 1200);
  const jpeg = await canvas.encode('jpeg', 95);
  const exif = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.from('MM\0*\0\0\0\x08\0\0GPS 21.0285N 105.8542E', 'latin1')]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 255]), exif]);
  const note = Buffer.from('secret-note: home of the official', 'latin1');
  const com = Buffer.concat([Buffer.from([0xff, 0xfe, (note.length + 2) >> 8, (note.length + 2) & 255]), note]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, com, jpeg.subarray(2)]);
}

/** A PNG whose header claims `width` x `height` pixels, with a few bytes of data (a decompression bomb's shape). */
function pngClaiming(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1024))), chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('staff photos', () => {
  it('stores a manager\'s upload re-encoded (512 px, no metadata) and serves it to the site\'s devices and staff with an ETag', async () => {
    const canbo1 = f.userIds.canbo1!;
    const original = await cameraJpeg();
    // the client's content type is not what decides: the bytes are a JPEG
    const res = await put(canbo1, f.tokens.manager, original, 'application/octet-stream');
    expect(res.statusCode, res.body).toBe(200);
    const photo = res.json();
    expect(photo).toMatchObject({ userId: canbo1, contentType: 'image/jpeg', width: 512, height: 384 });
    expect(photo.photoUrl).toMatch(new RegExp(`^/api/v1/users/${canbo1}/photo\\?v=[A-Za-z0-9_-]{22}$`));

    const [row] = await stored();
    expect(row).toMatchObject({ userId: canbo1, contentType: 'image/jpeg', width: 512, height: 384, updatedBy: f.userIds.manager });
    expect(row!.image.length).toBe(photo.bytes);
    expect(row!.image.length).toBeLessThan(original.length / 5);
    expect(row!.image.includes('Exif')).toBe(false);
    expect(row!.image.includes('GPS')).toBe(false);
    expect(row!.image.includes('secret-note')).toBe(false);

    for (const token of [f.tokens.rating, f.tokens.counterDevice, f.tokens.display, f.tokens.staff2, f.tokens.staff, f.tokens.manager, f.tokens.admin]) {
      const read = await f.app.inject({ method: 'GET', url: photo.photoUrl, headers: bearer(token) });
      expect(read.statusCode).toBe(200);
      expect(read.headers['content-type']).toBe('image/jpeg');
      expect(read.headers['x-content-type-options']).toBe('nosniff');
      expect(read.headers['cache-control']).toBe('private, no-cache');
      expect(read.headers.etag).toBe(`"${photo.photoUrl.split('v=')[1]}"`);
      expect(read.rawPayload.equals(row!.image)).toBe(true);
    }
    const image = await loadImage((await get(canbo1, f.tokens.rating)).rawPayload);
    expect([image.width, image.height]).toEqual([512, 384]);

    // a cached copy is confirmed with a 304 and no body
    const etag = (await get(canbo1, f.tokens.rating)).headers.etag as string;
    const again = await get(canbo1, f.tokens.rating, { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
    expect((await get(canbo1, f.tokens.rating, { 'if-none-match': '"something-else"' })).statusCode).toBe(200);
  });

  it('names the photo by URL in the counter, the snapshot, the staff list, today\'s figures and rating:requested', async () => {
    const canbo1 = f.userIds.canbo1!;
    const { photoUrl } = (await f.app.inject({ method: 'GET', url: `/api/v1/sites/${f.siteId}/staff`, headers: bearer(f.tokens.manager) }))
      .json().find((u: { id: string }) => u.id === canbo1);
    expect(photoUrl).toMatch(/\/photo\?v=/);

    const rating = await sockets.listen({ token: f.tokens.rating });
    const post = (url: string, token: string, payload: object = {}) =>
      f.app.inject({ method: 'POST', url: `/api/v1${url}`, headers: bearer(token), payload });
    expect((await post(`/counters/${f.counters[1]}/open`, f.tokens.staff)).json().counter.staff).toEqual({ id: canbo1, displayName: 'Cán bộ canbo1', photoUrl });
    expect((await f.app.inject({ method: 'GET', url: `/api/v1/counters/${f.counters[1]}`, headers: bearer(f.tokens.rating) })).json().counter.staff.photoUrl).toBe(photoUrl);
    const snapshot = (await f.app.inject({ method: 'GET', url: `/api/v1/sites/${f.siteId}/queue`, headers: bearer(f.tokens.rating) })).json();
    expect(snapshot.counters.find((c: { counterId: string }) => c.counterId === f.counters[1]).staff.photoUrl).toBe(photoUrl);
    expect((await f.app.inject({ method: 'GET', url: `/api/v1/counters/${f.counters[1]}/today`, headers: bearer(f.tokens.staff) })).json().staff.photoUrl).toBe(photoUrl);

    const { ticket } = (await post(`/sites/${f.siteId}/tickets`, f.tokens.kiosk, { serviceId: f.services.HT })).json();
    await post(`/counters/${f.counters[1]}/call-next`, f.tokens.staff);
    const requested = nextEvent(rating.socket, 'rating:requested');
    await post(`/tickets/${ticket.id}/finish`, f.tokens.staff);
    // a URL only: the image never travels in an event
    expect(await requested).toEqual({ ticketId: ticket.id, counterId: f.counters[1], staff: { displayName: 'Cán bộ canbo1', photoUrl } });
    const pending = (await f.app.inject({ method: 'GET', url: `/api/v1/counters/${f.counters[1]}/rating-request`, headers: bearer(f.tokens.rating) })).json();
    expect(pending.staff).toEqual({ displayName: 'Cán bộ canbo1', photoUrl });
    await post(`/counters/${f.counters[1]}/close`, f.tokens.staff);
  });

  it('tells the screens of the official\'s sites, and gives a new photo a new URL', async () => {
    const canbo1 = f.userIds.canbo1!;
    const rating = await sockets.listen({ token: f.tokens.rating });
    const before = (await stored())[0]!.etag;
    const updated = nextEvent(rating.socket, 'site:updated');
    const canvas = createCanvas(300, 400);
    canvas.getContext('2d').fillRect(0, 0, 300, 400);
    const res = await put(canbo1, f.tokens.admin, await canvas.encode('png'), 'image/png');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ width: 300, height: 400, contentType: 'image/jpeg' });
    expect(await updated).toEqual({ siteId: f.siteId, parts: ['staff'] });
    expect(res.json().photoUrl).not.toContain(before);

    const webp = createCanvas(640, 480);
    webp.getContext('2d').fillRect(0, 0, 640, 480);
    const fromWebp = await put(canbo1, f.tokens.manager, await webp.encode('webp', 80), 'image/webp');
    expect(fromWebp.statusCode, fromWebp.body).toBe(200);
    expect(fromWebp.json()).toMatchObject({ width: 512, height: 384 });
  });

  it('refuses what is not a JPEG, PNG or WebP photo, and changes nothing', async () => {
    const canbo1 = f.userIds.canbo1!;
    const before = await stored();
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;', 'latin1');
    const cases: [string, Buffer, string, number, string][] = [
      ['a GIF called a JPEG', gif, 'image/jpeg', 415, 'PHOTO_UNSUPPORTED_TYPE'],
      ['an HTML page called a PNG', Buffer.from('<html><script>alert(1)</script></html>'), 'image/png', 415, 'PHOTO_UNSUPPORTED_TYPE'],
      ['JSON', Buffer.from(JSON.stringify({ photo: 'x' })), 'application/json', 415, 'PHOTO_UNSUPPORTED_TYPE'],
      ['an SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml', 415, 'PHOTO_UNSUPPORTED_TYPE'],
      ['a JPEG cut short', (await cameraJpeg()).subarray(0, 400), 'image/jpeg', 400, 'PHOTO_UNREADABLE'],
      ['a PNG of 30000 x 30000 pixels', pngClaiming(30_000, 30_000), 'image/png', 400, 'PHOTO_TOO_MANY_PIXELS'],
    ];
    for (const [what, body, type, status, code] of cases) {
      const res = await put(canbo1, f.tokens.manager, body, type);
      expect([what, res.statusCode, res.json().error.code]).toEqual([what, status, code]);
    }
    const empty = await f.app.inject({ method: 'PUT', url: photoPath(canbo1), headers: bearer(f.tokens.manager) });
    expect(empty.statusCode).toBe(400);
    expect(await stored()).toEqual(before);
  });

  it('refuses an upload over 2 MB with 413 over real HTTP, and changes nothing', async () => {
    const before = await stored();
    // a real JPEG start, then padding: too big whatever it is
    const big = Buffer.concat([await cameraJpeg(), Buffer.alloc(PHOTO_MAX_BYTES)]);
    const res = await fetch(`${base}${photoPath(f.userIds.canbo1!)}`, {
      method: 'PUT', headers: { ...bearer(f.tokens.manager), 'content-type': 'image/jpeg' }, body: big,
    });
    expect(res.status).toBe(413);
    expect((await res.json()).error.code).toBe('BODY_TOO_LARGE');
    // just under the cap is read (and refused only for what it is)
    const under = await put(f.userIds.canbo1!, f.tokens.manager, Buffer.concat([Buffer.from('GIF89a'), Buffer.alloc(PHOTO_MAX_BYTES - 6)]), 'image/gif');
    expect(under.statusCode).toBe(415);
    expect(await stored()).toEqual(before);
  });

  it('lets only managers of the official\'s sites and administrators change it, and only the site\'s devices and staff read it', async () => {
    const canbo1 = f.userIds.canbo1!;
    const before = await stored();
    const jpeg = await cameraJpeg();
    const refusals: [string, Awaited<ReturnType<typeof put>>, number][] = [
      ['no credentials: upload', await put(canbo1, null, jpeg), 401],
      ['no credentials: delete', await del(canbo1, null), 401],
      ['no credentials: read', await get(canbo1, null), 401],
      ['a manager of another site: upload', await put(canbo1, otherManager, jpeg), 403],
      ['a manager of another site: delete', await del(canbo1, otherManager), 403],
      ['the official themselves: upload', await put(canbo1, f.tokens.staff, jpeg), 403],
      ['a colleague: delete', await del(canbo1, f.tokens.staff2), 403],
      ['the rating tablet: upload', await put(canbo1, f.tokens.rating, jpeg), 403],
      ['a manager: their own photo', await put(f.userIds.manager!, f.tokens.manager, jpeg), 200],
      ['staff of another site: read', await get(canbo1, f.tokens.otherStaff), 403],
      ['a device of another site: read', await get(canbo1, f.tokens.otherKiosk), 403],
      ['a manager of another site: read', await get(canbo1, otherManager), 403],
      ['an unknown account: upload', await put('00000000-0000-4000-8000-000000000000', f.tokens.manager, jpeg), 403],
      ['an unknown account: read', await get('00000000-0000-4000-8000-000000000000', f.tokens.rating), 403],
      ['not an id', await get('nope', f.tokens.rating), 400],
    ];
    expect(refusals.map(([what, res]) => [what, res.statusCode])).toEqual(refusals.map(([what, , status]) => [what, status]));
    // nor an administrator's, even one of their own sites
    const admin = await f.t.db.selectFrom('appUser').select('id').where('username', '=', 'admin').executeTakeFirstOrThrow();
    expect((await put(admin.id, f.tokens.manager, jpeg)).statusCode).toBe(403);
    expect((await stored()).find((p) => p.userId === canbo1)).toEqual(before.find((p) => p.userId === canbo1));
    await del(f.userIds.manager!, f.tokens.manager);
  });

  it('deletes it: the photo is gone, the counter names none, and deleting again is still 204', async () => {
    const canbo1 = f.userIds.canbo1!;
    const rating = await sockets.listen({ token: f.tokens.rating });
    const updated = nextEvent(rating.socket, 'site:updated');
    expect((await del(canbo1, f.tokens.manager)).statusCode).toBe(204);
    expect(await updated).toEqual({ siteId: f.siteId, parts: ['staff'] });
    const gone = await get(canbo1, f.tokens.rating);
    expect([gone.statusCode, gone.json().error.code]).toEqual([404, 'PHOTO_NOT_FOUND']);
    expect(await stored()).toEqual([]);
    const open = await f.app.inject({ method: 'POST', url: `/api/v1/counters/${f.counters[1]}/open`, headers: bearer(f.tokens.staff), payload: {} });
    expect(open.json().counter.staff).toEqual({ id: canbo1, displayName: 'Cán bộ canbo1' });
    expect((await del(canbo1, f.tokens.manager)).statusCode).toBe(204);
  });

  it('documents the photo routes in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/docs/json' })).json();
    const path = doc.paths['/api/v1/users/{userId}/photo'];
    expect(Object.keys(path).sort()).toEqual(['delete', 'get', 'put']);
    expect(Object.keys(path.put.requestBody.content).sort()).toEqual(['image/jpeg', 'image/png', 'image/webp']);
    expect(path.put.requestBody.content['image/jpeg'].schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(Object.keys(path.put.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '403', '413', '415']));
    expect(Object.keys(path.get.responses)).toEqual(expect.arrayContaining(['200', '304', '404']));
    expect(doc.components?.schemas ?? {}).toBeDefined();
  });
});
