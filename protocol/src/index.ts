export * from './schemas.ts';
export * from './events.ts';
