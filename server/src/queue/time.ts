export { isoInZone } from '@qms/protocol/calendar';

export const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
