// Written by scripts/make-voice-clips.ts: a hash of the clips in public/voice/, appended to
// clip URLs so that regenerated clips are never served from a stale cache.
export const CLIP_VERSION = 'fbf33dd3f894';
