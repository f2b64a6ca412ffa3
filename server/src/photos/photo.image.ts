import { createCanvas, Image } from '@napi-rs/canvas';
import { QueueError } from '../queue/queue.errors.ts';

// What an uploaded photo becomes before it is stored: the kind read from its first bytes (never
// from the Content-Type the client claims), then decoded and drawn again as a JPEG of at most
// PHOTO_SIDE pixels a side. Re-encoding, rather than storing the upload, is what
// - drops the metadata (EXIF GPS position, camera serial, a thumbnail of the uncropped picture)
//   that a phone puts in a photo and that should not be served to every tablet of a site;
// - serves only pixels this server has drawn itself (a file that is both a JPEG and an HTML page
//   or a script is a JPEG afterwards, whatever a browser might sniff);
// - bounds what every tablet downloads: a 2 MB phone photo becomes ~30-60 KB.
// The orientation a phone records in EXIF is applied while decoding (Skia does it), so a portrait
// taken sideways is upright once the tag is gone.

export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];

/** The longest side of a stored photo: a 220 px avatar on a tablet with a 2x screen. */
export const PHOTO_SIDE = 512;
/**
 * Pixels an upload may decode to. A 2 MB PNG of one colour can declare 30000 x 30000 pixels
 * (3.6 GB once decoded): refused from its header, before anything is decoded. 24 Mpx (a 6000 x
 * 4000 camera photo) is ~100 MB while it is scaled down; uploads are decoded one at a time.
 */
export const PHOTO_MAX_PIXELS = 24_000_000;
const QUALITY = 85;

export interface EncodedPhoto {
  image: Buffer;
  contentType: 'image/jpeg';
  width: number;
  height: number;
}

/** The kind of image by its magic bytes, or null. */
export function sniffImage(bytes: Uint8Array): PhotoType | null {
  const starts = (offset: number, ...values: number[]) => values.every((v, i) => bytes[offset + i] === v);
  if (starts(0, 0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  // RIFF....WEBP
  if (starts(0, 0x52, 0x49, 0x46, 0x46) && starts(8, 0x57, 0x45, 0x42, 0x50)) return 'image/webp';
  return null;
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * The upload as it will be stored, or a 4xx QueueError. One at a time in this process: a decoded
 * photo is tens of MB, and a site server is small. (Decoding runs off the event loop; drawing the
 * scaled copy runs on it, 10-40 ms for a 12 Mpx photo.)
 */
export function reencodePhoto(bytes: Buffer): Promise<EncodedPhoto> {
  const run = queue.then(() => reencode(bytes));
  queue = run.catch(() => {});
  return run;
}

async function reencode(bytes: Buffer): Promise<EncodedPhoto> {
  if (!sniffImage(bytes)) {
    throw new QueueError('PHOTO_UNSUPPORTED_TYPE', 'A photo must be a JPEG, PNG or WebP image', 415);
  }
  const source = new Image();
  // reads the header only: the size is known before anything is decoded
  source.src = bytes;
  const { width, height } = source;
  if (!width || !height) throw unreadable();
  if (width * height > PHOTO_MAX_PIXELS) {
    throw new QueueError('PHOTO_TOO_MANY_PIXELS', `The photo is ${width} x ${height} pixels; at most ${PHOTO_MAX_PIXELS / 1e6} million pixels are accepted`, 400);
  }
  try {
    await source.decode();
  } catch {
    throw unreadable();
  }
  const scale = Math.min(1, PHOTO_SIDE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = createCanvas(w, h);
  const g = canvas.getContext('2d');
  // a transparent PNG on white, as JPEG has no transparency
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, w, h);
  g.imageSmoothingEnabled = true;
  g.imageSmoothingQuality = 'high';
  try {
    g.drawImage(source, 0, 0, w, h);
  } catch {
    throw unreadable();
  }
  return { image: await canvas.encode('jpeg', QUALITY), contentType: 'image/jpeg', width: w, height: h };
}

const unreadable = () => new QueueError('PHOTO_UNREADABLE', 'The image is damaged or incomplete and cannot be read', 400);
