// A photo from a phone is often 3-6 MB, over what the server reads (2 MB). The browser decodes
// it and sends a 1600 px JPEG instead; the server re-encodes whatever it gets anyway (512 px, no
// metadata), so nothing is lost that would have been kept. What the browser cannot decode goes
// as it is, and the server says what is wrong with it.

export const PHOTO_MAX_BYTES = 2 * 1024 * 1024;
const SIDE = 1600;

export async function photoForUpload(file: File): Promise<Blob> {
  if (file.size <= PHOTO_MAX_BYTES) return file;
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const scale = Math.min(1, SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(bitmap.width * scale));
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    const g = canvas.getContext('2d');
    if (!g) return file;
    g.fillStyle = '#fff';
    g.fillRect(0, 0, canvas.width, canvas.height);
    g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.9));
    return blob ?? file;
  } catch {
    return file;
  }
}
