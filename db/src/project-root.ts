import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The project's checkout: the nearest folder above `from` whose package.json lists the
 * workspaces. Walking up finds it from the sources (db/src, server/src/plugins) and from the
 * production build (dist/) alike, so data/, the screens' builds and the seed are found the same
 * way whichever of the two runs.
 */
export function findProjectRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && Array.isArray((JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown }).workspaces)) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no project folder (a package.json with workspaces) above ${from}`);
  }
}

export const projectRoot = findProjectRoot(import.meta.dirname);
