export * from './schemas.ts';
export * from './events.ts';
export * from './desk.ts';
export * from './requests.ts';
export * from './errors.ts';
export * from './lifecycle.ts';
export * from './notifications.ts';
export * from './audit.ts';
