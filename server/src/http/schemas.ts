import { Type } from 'typebox';
import { ErrorBody } from '@qms/protocol';

// The request schemas are protocol's (protocol/src/requests.ts); these are the error replies
// every route documents.
export {
  CounterParams, CreateCounterBody, CreateDeviceBody, CreateServiceBody, CreateSiteBody, CreateStaffBody, DeviceParams, Id, IssueBody, IssueHeaders,
  LoginBody, OpeningHoursBody, PairBody, PauseBody, RatingBody, SiteParams, TicketParams, TicketReply, TransferBody,
} from '@qms/protocol';

export const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };
/** responses documented by their route's description rather than a schema */
export const created = { 201: Type.Unknown(), ...errors };
export const noContent = { 204: Type.Null(), ...errors };
