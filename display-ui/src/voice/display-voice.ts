// What the display app shell needs in one call: an announcer wired to the browser, every
// played announcement appended to window.__qmsVoiceLog (read by the end-to-end tests), and any
// tap, click or key press on the page unlocking sound after a blocked autoplay.
//
//   const voice = createDisplayVoice({ template: site.announcement });
//   socket.on('ticket:called', (call) => voice.announce({ code: call.code, counter: call.counterNumber }));
//   // show "Chạm để bật âm thanh / Tap to enable sound" while voice.announcer.state === 'needsTap'

import { Announcer, type AnnouncerOptions, type PlayedAnnouncement } from './announcer.ts';
import { buildAnnouncement, type AnnouncementInput, type AnnouncementTemplate, type VoiceLang } from './phrase.ts';

/** window.__qmsVoiceLog: every announcement played on this page, oldest first. */
export const VOICE_LOG_KEY = '__qmsVoiceLog';

export interface DisplayVoiceOptions extends AnnouncerOptions {
  /** The site's announcement template; default DEFAULT_TEMPLATE. */
  template?: AnnouncementTemplate;
  languages?: VoiceLang[];
  /** Where tap/click/key presses unlock sound; default `document`. null to wire it yourself. */
  gestureTarget?: EventTarget | null;
  /** Object that receives the log array; default `globalThis` (window). */
  logTarget?: object;
}

export interface DisplayVoice {
  announcer: Announcer;
  /** Announces a call (or a recall: just call it again). Returns the announcement's seq. */
  announce(call: Pick<AnnouncementInput, 'code' | 'counter'>): number;
  dispose(): void;
}

const GESTURES = ['pointerdown', 'touchstart', 'keydown'] as const;

export function createDisplayVoice(options: DisplayVoiceOptions = {}): DisplayVoice {
  const { template, languages, gestureTarget, logTarget, ...announcerOptions } = options;
  const announcer = new Announcer(announcerOptions);

  const holder = (logTarget ?? globalThis) as Record<string, unknown>;
  const log = (Array.isArray(holder[VOICE_LOG_KEY]) ? holder[VOICE_LOG_KEY] : (holder[VOICE_LOG_KEY] = [])) as PlayedAnnouncement[];
  announcer.onPlayed((played) => log.push(played));

  // unlock() must run inside the gesture's own event handler for the browser to count it.
  const target = gestureTarget === undefined ? globalThis.document : gestureTarget;
  const onGesture = () => {
    if (announcer.state === 'needsTap') announcer.unlock();
  };
  for (const type of GESTURES) target?.addEventListener(type, onGesture, { capture: true, passive: true });

  return {
    announcer,
    announce: (call) => announcer.enqueue(buildAnnouncement({ ...call, template, languages })),
    dispose() {
      for (const type of GESTURES) target?.removeEventListener(type, onGesture, { capture: true });
      announcer.dispose();
    },
  };
}
