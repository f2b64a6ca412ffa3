import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '@qms/protocol';
import { ACTION_GROUPS, ACTION_NAMES, changeLines } from '../src/manage/audit/audit-text.ts';

// The audit page's words: every action the server records has a name in both languages and
// belongs to a filter group; changes read "before → after", a secret only "changed".

describe('audit page words', () => {
  const actions = Object.values(AUDIT_ACTIONS).flat();

  it('names every action the server records, and groups it under a filter', () => {
    for (const action of actions) {
      expect(ACTION_NAMES[action]?.vi, action).toBeTruthy();
      expect(ACTION_NAMES[action]?.en, action).toBeTruthy();
      const grouped = ACTION_GROUPS.some((g) => g.value.split(',').some((v) => v === action || (v.endsWith('.*') && action.startsWith(v.slice(0, -1)))));
      expect(grouped, action).toBe(true);
    }
    expect(Object.keys(ACTION_NAMES).sort()).toEqual([...actions].sort());
  });

  it('reads changes as people do: from → to, the language of a name that changed, secrets as "changed"', () => {
    const lines = changeLines({
      targetWaitSeconds: { from: 900, to: 600 },
      name: { from: { vi: 'Tư pháp', en: 'Justice' }, to: { vi: 'Hộ tịch', en: 'Justice' } },
      password: { changed: true },
      secrets: { authorization: { changed: true }, apiKey: { changed: true } },
      code: 'TN',
      zone: { from: null, to: { counterIds: ['c1'] } },
    }, 'đã thay đổi');
    expect(lines.map((l) => `${l.field}: ${l.text}`)).toEqual([
      'targetWaitSeconds: 900 → 600',
      'name: Tư pháp → Hộ tịch',
      'password: đã thay đổi',
      'secrets: authorization, apiKey: đã thay đổi',
      'code: TN',
      'zone: ∅ → {"counterIds":["c1"]}',
    ]);
    const long = changeLines({ body: { from: 'a'.repeat(300), to: 'b' } }, 'changed')[0]!;
    expect(long.text.length).toBeLessThan(80);
    expect(long.full).toContain('a'.repeat(300));
  });
});
