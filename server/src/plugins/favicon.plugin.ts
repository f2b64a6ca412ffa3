import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

// The tab icon of every screen and of the phone page: a white "Q" (for queue) on the centre's
// blue. Without it each page's /favicon.ico answered 404, a console error in Chromium on every
// screen. The pages link /favicon.svg; /favicon.ico is the same picture for whatever asks for
// it by that name (older browsers, bookmarks). Both are drawn here, so the repository holds no
// binary and the two cannot drift apart.

const BLUE = [0x0b, 0x3d, 0x91] as const;

export const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
  + '<rect width="32" height="32" rx="7" fill="#0b3d91"/>'
  + '<circle cx="16" cy="15" r="7.25" fill="none" stroke="#fff" stroke-width="3.5"/>'
  + '<path d="M18 18l7 8" stroke="#fff" stroke-width="3.5" stroke-linecap="round"/>'
  + '</svg>';

/** What covers the point (x, y) of the 32×32 picture above: nothing, the blue tile, or white. */
function paint(x: number, y: number): 'none' | 'blue' | 'white' {
  // the tile: a square with corners rounded by 7
  const cx = Math.min(Math.max(x, 7), 25);
  const cy = Math.min(Math.max(y, 7), 25);
  if ((x - cx) ** 2 + (y - cy) ** 2 > 49) return 'none';
  // the ring: radius 7.25, 3.5 wide
  const r = Math.hypot(x - 16, y - 15);
  if (r >= 5.5 && r <= 9) return 'white';
  // the tail: the segment (18,18)-(25,26) with round caps, 3.5 wide
  const [dx, dy] = [7, 8];
  const t = Math.min(1, Math.max(0, ((x - 18) * dx + (y - 18) * dy) / (dx * dx + dy * dy)));
  if (Math.hypot(x - 18 - t * dx, y - 18 - t * dy) <= 1.75) return 'white';
  return 'blue';
}

/** A 32×32, 32-bit ICO (one BMP image, alpha for the corners), anti-aliased by 4×4 samples a pixel. */
export function faviconIco(): Buffer {
  const size = 32;
  const pixels = Buffer.alloc(size * size * 4);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      let white = 0;
      let blue = 0;
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const p = paint(col + (sx + 0.5) / 4, row + (sy + 0.5) / 4);
          if (p === 'white') white++;
          else if (p === 'blue') blue++;
        }
      }
      const covered = white + blue;
      const mix = (c: number) => (covered ? Math.round((white * 255 + blue * c) / covered) : 0);
      // BMP rows run bottom-up, pixels as B, G, R, A
      const at = ((size - 1 - row) * size + col) * 4;
      pixels[at] = mix(BLUE[2]);
      pixels[at + 1] = mix(BLUE[1]);
      pixels[at + 2] = mix(BLUE[0]);
      pixels[at + 3] = Math.round((covered / 16) * 255);
    }
  }
  const mask = Buffer.alloc((size / 8) * size); // the 1-bit AND mask: all clear, the alpha decides
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0); // BITMAPINFOHEADER
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8); // an icon's height counts the picture and its mask
  header.writeUInt16LE(1, 12); // planes
  header.writeUInt16LE(32, 14); // bits a pixel
  header.writeUInt32LE(pixels.length + mask.length, 20);
  const image = Buffer.concat([header, pixels, mask]);
  const dir = Buffer.alloc(6 + 16);
  dir.writeUInt16LE(0, 0);
  dir.writeUInt16LE(1, 2); // an icon
  dir.writeUInt16LE(1, 4); // one image
  dir.writeUInt8(size, 6);
  dir.writeUInt8(size, 7);
  dir.writeUInt16LE(1, 10); // planes
  dir.writeUInt16LE(32, 12); // bits a pixel
  dir.writeUInt32LE(image.length, 14);
  dir.writeUInt32LE(dir.length, 18); // where the image starts
  return Buffer.concat([dir, image]);
}

async function favicon(app: FastifyInstance) {
  const ico = faviconIco();
  const cache = 'public, max-age=86400';
  app.get('/favicon.svg', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', cache).type('image/svg+xml').send(FAVICON_SVG));
  app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) =>
    reply.header('cache-control', cache).type('image/x-icon').send(ico));
}

export const faviconPlugin = fp(favicon, { name: 'favicon' });
