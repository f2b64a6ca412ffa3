import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { migrationNames } from '../src/migrate.ts';

// migrate.ts lists the migrations by hand (so tsx, vitest and a bundler see the same set). A file
// in the folder that the list leaves out never runs on a database already past the
// functions-from-files migration, which makes a fresh database from the current function bodies
// and so hides the omission from every other test.
describe('migrations', () => {
  it('are every file of db/src/migrations, each listed once', () => {
    const files = readdirSync(new URL('../src/migrations/', import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
    expect(migrationNames).toEqual(files);
  });
});
