import type { Lang } from './format.ts';
import type { SiteConfig } from '@qms/protocol';

// A search over the site's procedures: names (both languages), national codes and the fields'
// names. The kiosk's "which counter handles my procedure?" and the counter terminal's procedure
// picker share it. Citizens type on an on-screen keyboard without Vietnamese marks, and officials
// often type without them too, so matching ignores them: "dang ky khai sinh" finds "Đăng ký khai sinh".

/** Lower case, without diacritics (đ → d), single spaces. */
export function fold(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[đĐ]/g, 'd')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

export interface ProcedureHit {
  code: string;
  name: { vi: string; en: string };
  service: SiteConfig['services'][number];
  counterNumbers: number[];
}

interface Entry {
  hit: ProcedureHit;
  haystack: string;
  names: string[];
}

/** Index once per configuration; searching is then a scan of a few hundred short strings. */
export function procedureIndex(config: SiteConfig): Entry[] {
  return config.services.flatMap((service) =>
    service.procedures.map((p) => {
      const names = [fold(p.name.vi), fold(p.name.en)];
      return {
        hit: { code: p.code, name: p.name, service, counterNumbers: service.counterNumbers },
        names,
        haystack: [...names, p.code, fold(service.name.vi), fold(service.name.en)].join(' | '),
      };
    }));
}

/**
 * Procedures whose text holds every word of the query, best first: a name that starts with the
 * query, then a name that holds it as a phrase, then the rest, each in configuration order.
 */
export function searchProcedures(index: Entry[], query: string, lang: Lang = 'vi', limit = 30): ProcedureHit[] {
  const q = fold(query);
  if (!q) return [];
  const words = q.split(' ');
  const primary = lang === 'vi' ? 0 : 1;
  return index
    .filter((e) => words.every((w) => e.haystack.includes(w)))
    .map((e, order) => {
      const name = e.names[primary]!;
      const rank = name.startsWith(q) ? 0 : e.names.some((n) => n.includes(q)) ? 1 : 2;
      return { e, rank, order };
    })
    .sort((a, b) => a.rank - b.rank || a.order - b.order)
    .slice(0, limit)
    .map(({ e }) => e.hit);
}
