import { Type } from 'typebox';
import { ErrorBody } from '@qms/protocol';

// The error replies every route documents. Request and reply schemas are protocol's
// (protocol/src/requests.ts and schemas.ts): the screens send what the server checks.
export const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };
/** responses documented by their route's description rather than a schema */
export const created = { 201: Type.Unknown(), ...errors };
export const noContent = { 204: Type.Null(), ...errors };
