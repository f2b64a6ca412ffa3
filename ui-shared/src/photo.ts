// Officials' photos (StaffRef.photoUrl) are read with the screen's own credentials: a rating
// tablet holds a bearer token, which an <img src> cannot send. The image is handed to <img> as a
// data: URL, which the screens' Content-Security-Policy allows for images (blob: it does not).
// A photo's URL changes with the photo, so a URL once read is kept for the page's life.

const KEEP = 24;
const cache = new Map<string, Promise<string>>();

/** A data: URL of the photo at `url` (path under the server, as in photoUrl), or a rejection. */
export function photoSource(url: string, token: string | undefined, baseUrl = ''): Promise<string> {
  const key = baseUrl + url;
  const known = cache.get(key);
  if (known) return known;
  const loading = read(key, token);
  cache.set(key, loading);
  // a failure (network, a 403 after a revocation) is not remembered: the next screen tries again
  loading.catch(() => cache.get(key) === loading && cache.delete(key));
  while (cache.size > KEEP) cache.delete(cache.keys().next().value!);
  return loading;
}

async function read(url: string, token: string | undefined): Promise<string> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, credentials: 'include' });
  if (!res.ok) throw new Error(`photo: HTTP ${res.status}`);
  const blob = await res.blob();
  if (!/^image\/(jpeg|png|webp)$/.test(blob.type)) throw new Error(`photo: ${blob.type || 'no type'}`);
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
