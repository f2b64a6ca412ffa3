import type { Selectable } from 'kysely';
import type { NotificationTemplateTable } from '@qms/db';
import type { MessagePurpose } from './channels/channel.ts';
import { DEFAULT_TEMPLATES, render, type Lang } from './templates.ts';

/** A site's name and its own templates (notification_template), over the defaults. */
export interface SiteWording {
  siteName: string;
  templates: Pick<Selectable<NotificationTemplateTable>, 'purpose' | 'lang' | 'subject' | 'body'>[];
}

export function wordingOf(site: SiteWording, purpose: MessagePurpose, lang: Lang): { subject: string; body: string; custom: boolean } {
  const own = site.templates.find((t) => t.purpose === purpose && t.lang === lang);
  const fallback = DEFAULT_TEMPLATES[purpose][lang];
  return own ? { subject: own.subject ?? fallback.subject, body: own.body, custom: true } : { ...fallback, custom: false };
}

/** The stored fields of a message: its text in the recipient's language, and its placeholders (Zalo sends those). */
export function messageText(site: SiteWording, purpose: MessagePurpose, lang: Lang, params: Record<string, string>) {
  const all = { site: site.siteName, ...params };
  const { subject, text } = render(wordingOf(site, purpose, lang), purpose, all);
  return { lang, subject, body: text, params: all };
}
