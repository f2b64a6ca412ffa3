import { createCanvas, loadImage } from '@napi-rs/canvas';
import jsQR from 'jsqr';
import type { Page } from 'playwright-core';

/** What the QR code drawn in `selector` reads as, from the pixels on the screen, as a phone's camera would. */
export async function qrOf(page: Page, selector: string): Promise<string | null> {
  const image = await loadImage(await page.locator(selector).screenshot());
  const canvas = createCanvas(image.width, image.height);
  const g = canvas.getContext('2d');
  g.drawImage(image, 0, 0);
  return jsQR(g.getImageData(0, 0, image.width, image.height).data, image.width, image.height)?.data ?? null;
}
