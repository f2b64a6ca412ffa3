export * from './schemas.ts';
export * from './events.ts';
export * from './desk.ts';
