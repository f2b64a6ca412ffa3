import type { ErrorCode, ErrorDetails } from '@qms/protocol';
import { ApiError } from '@qms/protocol/client';
import { formatDate, formatTime, type Lang } from '@qms/ui-shared/format';

// What an official or a citizen reads when the server refuses: plain Vietnamese (or English),
// built from the API's stable error code and details, never the raw server sentence.

export interface ErrorContext {
  /** the ticket the action was about, e.g. "A002" */
  ticketCode?: string;
  /** the counter the screen works, e.g. 1 */
  counterNumber?: number;
  /** the site's time zone, for the times in a refusal (opens at, closes at) */
  timezone?: string;
}

type Text = { vi: string; en: string };

const STATUS: Record<string, Text> = {
  waiting: { vi: 'đang chờ', en: 'waiting' },
  called: { vi: 'đã được gọi', en: 'called' },
  serving: { vi: 'đang được phục vụ', en: 'being served' },
  done: { vi: 'đã phục vụ xong', en: 'already served' },
  no_show: { vi: 'đã được đánh dấu vắng mặt', en: 'marked as no-show' },
  transferred: { vi: 'đã được chuyển', en: 'transferred' },
  cancelled: { vi: 'đã bị huỷ', en: 'cancelled' },
  expired: { vi: 'đã hết hiệu lực (hết ngày làm việc)', en: 'expired (the working day ended)' },
};

const details = (e: ApiError): ErrorDetails => (e.details ?? {}) as ErrorDetails;
const ticketOf = (e: ApiError, ctx: ErrorContext) => {
  const code = details(e).code ?? ctx.ticketCode;
  return code ? { vi: `Số ${code}`, en: `Ticket ${code}` } : { vi: 'Số này', en: 'This ticket' };
};
/** "Số A007" → "số A007" in the middle of a sentence (only the first letter) */
const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);
const counterOf = (e: ApiError, ctx: ErrorContext) => {
  return details(e).number ?? details(e).counterNumber ?? ctx.counterNumber;
};

/** Every code the counter terminal and the rating tablet can receive, in both languages. */
const MESSAGES: Partial<Record<ErrorCode, (e: ApiError, ctx: ErrorContext) => Text>> = {
  // sign-in and permissions
  INVALID_CREDENTIALS: () => ({ vi: 'Sai tên đăng nhập hoặc mật khẩu.', en: 'Wrong username or password.' }),
  UNAUTHENTICATED: () => ({ vi: 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.', en: 'Your session has expired. Please sign in again.' }),
  FORBIDDEN: () => ({ vi: 'Bạn không có quyền thực hiện thao tác này.', en: 'You are not allowed to do this.' }),
  RATE_LIMITED: () => ({ vi: 'Thao tác quá nhiều lần. Vui lòng đợi một phút rồi thử lại.', en: 'Too many attempts. Wait a minute and try again.' }),
  INVALID_PAIRING_CODE: () => ({ vi: 'Mã ghép nối không đúng hoặc đã hết hạn.', en: 'The pairing code is wrong or has expired.' }),
  ISSUE_KEY_REUSED: () => ({ vi: 'Yêu cầu lấy số này đã dùng cho một số khác. Vui lòng bấm lại.', en: 'This request was already used for another ticket. Please press again.' }),
  SITE_REQUIRED: () => ({ vi: 'Chưa chọn trung tâm.', en: 'Choose a centre first.' }),

  // the counter
  COUNTER_TAKEN: (e, ctx) => {
    const who = details(e).staffName;
    const n = counterOf(e, ctx);
    const counter = n ? { vi: `Quầy ${n}`, en: `Counter ${n}` } : { vi: 'Quầy này', en: 'This counter' };
    return who
      ? { vi: `${counter.vi} đang do cán bộ ${who} phụ trách.`, en: `${counter.en} is already open by ${who}.` }
      : { vi: `${counter.vi} đang do cán bộ khác phụ trách.`, en: `${counter.en} is worked by another official.` };
  },
  COUNTER_NOT_OPEN: () => ({ vi: 'Quầy chưa mở. Nhấn F9 để mở quầy.', en: 'The counter is not open. Press F9 to open it.' }),
  COUNTER_PAUSED: () => ({ vi: 'Quầy đang tạm dừng. Nhấn F8 để tiếp tục rồi gọi số.', en: 'The counter is paused. Press F8 to resume, then call.' }),
  COUNTER_NOT_PAUSED: () => ({ vi: 'Quầy không ở trạng thái tạm dừng.', en: 'The counter is not paused.' }),
  NOT_COUNTER_OFFICIAL: (e, ctx) => {
    const n = counterOf(e, ctx);
    return n
      ? { vi: `Quầy ${n} đang do cán bộ khác phụ trách.`, en: `Counter ${n} is worked by another official.` }
      : { vi: 'Quầy này đang do cán bộ khác phụ trách.', en: 'Another official is working this counter.' };
  },
  COUNTER_BUSY: (e, ctx) => {
    const t = ticketOf(e, ctx);
    return {
      vi: `Quầy đang phục vụ ${lowerFirst(t.vi)}: hãy hoàn thành (F4) hoặc đánh dấu vắng mặt (F5) trước.`,
      en: `The counter is still with ${lowerFirst(t.en)}: finish it (F4) or mark it no-show (F5) first.`,
    };
  },
  COUNTER_NOT_FOUND: () => ({ vi: 'Không tìm thấy quầy này. Vui lòng chọn lại quầy.', en: 'This counter no longer exists. Choose a counter again.' }),

  // tickets
  TICKET_NOT_WAITING: (e, ctx) => {
    const t = ticketOf(e, ctx);
    const d = details(e);
    if (d.counterNumber) return { vi: `${t.vi} đã được quầy ${d.counterNumber} gọi.`, en: `${t.en} was already called by counter ${d.counterNumber}.` };
    const s = STATUS[d.status ?? ''];
    return s ? { vi: `${t.vi} không còn chờ: ${s.vi}.`, en: `${t.en} is no longer waiting: ${s.en}.` } : { vi: `${t.vi} không còn chờ.`, en: `${t.en} is no longer waiting.` };
  },
  TICKET_AT_OTHER_COUNTER: (e, ctx) => {
    const t = ticketOf(e, ctx);
    const n = details(e).counterNumber;
    return { vi: `${t.vi} đang được phục vụ tại quầy ${n ?? 'khác'}.`, en: `${t.en} is being served at counter ${n ?? '(another)'}.` };
  },
  TICKET_NOT_CALLED: (e, ctx) => {
    const t = ticketOf(e, ctx);
    const status = details(e).status;
    if (status === 'serving') {
      return { vi: `${t.vi} đang được phục vụ: chỉ có thể hoàn thành (F4) hoặc chuyển (F6).`, en: `${t.en} is being served: you can only finish (F4) or transfer (F6) it.` };
    }
    const s = STATUS[status ?? ''];
    return s ? { vi: `${t.vi} ${s.vi}.`, en: `${t.en} is ${s.en}.` } : { vi: `${t.vi} chưa được gọi.`, en: `${t.en} has not been called.` };
  },
  TICKET_NOT_IN_SERVICE: (e, ctx) => {
    const t = ticketOf(e, ctx);
    const s = STATUS[details(e).status ?? ''];
    return s ? { vi: `${t.vi} không còn ở quầy: ${s.vi}.`, en: `${t.en} is no longer at the counter: ${s.en}.` } : { vi: `${t.vi} không còn ở quầy.`, en: `${t.en} is no longer at the counter.` };
  },
  SERVICE_NOT_SERVED: (e, ctx) => {
    const t = ticketOf(e, ctx);
    return { vi: `Quầy này không phục vụ lĩnh vực của ${lowerFirst(t.vi)}.`, en: `This counter does not serve the service of ${lowerFirst(t.en)}.` };
  },
  TICKET_OF_EARLIER_DAY: (e, ctx) => {
    const t = ticketOf(e, ctx);
    return { vi: `${t.vi} được cấp từ ngày làm việc trước nên không thể gọi nữa.`, en: `${t.en} was issued on an earlier working day and can no longer be called.` };
  },
  TICKET_FINISHED: (e, ctx) => {
    const t = ticketOf(e, ctx);
    return { vi: `${t.vi} đã kết thúc.`, en: `${t.en} has already ended.` };
  },
  CODE_IN_USE: () => ({ vi: 'Số này đang được một phiếu khác sử dụng. Vui lòng thử lại.', en: 'Another live ticket has this number. Please try again.' }),
  TICKET_NOT_FOUND: () => ({ vi: 'Không tìm thấy số này (có thể đã bị huỷ).', en: 'This ticket was not found (it may have been cancelled).' }),
  SERVICE_NOT_FOUND: () => ({ vi: 'Lĩnh vực được chọn không còn hoạt động.', en: 'The chosen service is no longer available.' }),
  SITE_NOT_FOUND: () => ({ vi: 'Không tìm thấy trung tâm.', en: 'The centre was not found.' }),
  ALERT_NOT_FOUND: () => ({ vi: 'Không tìm thấy cảnh báo.', en: 'The alert was not found.' }),

  // issuing a walk-in ticket at the counter (the kiosk says the same in its own words)
  SITE_CLOSED: (e, ctx) => {
    const opensAt = details(e).opensAt as string | null | undefined;
    if (!opensAt) return { vi: 'Trung tâm hiện không làm việc nên không cấp số được.', en: 'The centre is closed now, so no number can be issued.' };
    const tz = ctx.timezone ?? 'Asia/Ho_Chi_Minh';
    const when = `${formatTime(opensAt, tz)} ${formatDate(opensAt, tz)}`;
    return { vi: `Trung tâm hiện không làm việc nên không cấp số được. Mở lại lúc ${when}.`, en: `The centre is closed now, so no number can be issued. It opens again at ${when}.` };
  },
  SERVICE_CLOSING: (e, ctx) => {
    const closesAt = details(e).closesAt as string | null | undefined;
    const at = closesAt ? formatTime(closesAt, ctx.timezone ?? 'Asia/Ho_Chi_Minh') : null;
    return at
      ? { vi: `Đã hết lượt tiếp nhận lĩnh vực này trong buổi: thời gian chờ dự kiến vượt quá giờ kết thúc (${at}).`, en: `No more numbers for this service this session: the estimated wait runs past closing time (${at}).` }
      : { vi: 'Đã hết lượt tiếp nhận lĩnh vực này trong buổi làm việc.', en: 'No more numbers for this service this session.' };
  },
  UNKNOWN_PRIORITY: () => ({ vi: 'Đối tượng ưu tiên này không còn trong danh sách của trung tâm.', en: 'This priority group is no longer configured for the centre.' }),

  // procedures and dossiers of a visit
  UNKNOWN_PROCEDURE: () => ({ vi: 'Thủ tục này không có trong danh mục của trung tâm (có thể vừa bị gỡ).', en: 'This procedure is not in the centre’s list (it may have just been removed).' }),
  DOSSIER_NOT_FOUND: () => ({ vi: 'Không tìm thấy mã hồ sơ này (có thể đã được xoá).', en: 'This dossier code was not found (it may already have been removed).' }),
  TICKET_NOT_AT_YOUR_COUNTER: (e, ctx) => {
    const t = ticketOf(e, ctx);
    return { vi: `${t.vi} không còn ở quầy của bạn nên không sửa được thủ tục, hồ sơ.`, en: `${t.en} is no longer at your counter, so its procedures and dossiers cannot be changed.` };
  },

  // bookings and remote tickets (docs/appointments.md): the counter meets them when an official checks a citizen in
  BOOKING_NOT_FOUND: () => ({ vi: 'Không tìm thấy lịch hẹn với mã này.', en: 'No booking has this code.' }),
  BOOKINGS_CLOSED: () => ({ vi: 'Trung tâm hiện không nhận đặt lịch.', en: 'The centre takes no bookings now.' }),
  SLOT_NOT_OFFERED: () => ({ vi: 'Lĩnh vực này không nhận lịch hẹn vào giờ đó.', en: 'This field takes no booking at that time.' }),
  SLOT_FULL: () => ({ vi: 'Khung giờ này đã kín lịch.', en: 'This time is fully booked.' }),
  BOOKING_LIMIT: () => ({ vi: 'Số điện thoại hoặc email này đã đặt đủ số lịch trong ngày.', en: 'This phone number or email has booked as many times as a day allows.' }),
  CONTACT_REQUIRED: () => ({ vi: 'Cần số điện thoại di động hoặc email để gửi mã.', en: 'A mobile number or an email is needed to send the code.' }),
  CONSENT_REQUIRED: () => ({ vi: 'Công dân cần đồng ý cho lưu số điện thoại hoặc email.', en: 'The citizen must agree to their number or email being kept.' }),
  INVALID_ID_NUMBER: () => ({ vi: 'Số căn cước công dân gồm 12 chữ số.', en: 'A citizen ID number has 12 digits.' }),
  VERIFICATION_FAILED: () => ({ vi: 'Mã xác nhận chưa đúng.', en: 'That confirmation code is not right.' }),
  VERIFICATION_EXPIRED: () => ({ vi: 'Mã xác nhận đã hết hạn.', en: 'The confirmation code has expired.' }),
  VERIFICATION_LOCKED: () => ({ vi: 'Nhập sai mã quá nhiều lần: cần đặt lịch lại.', en: 'Too many wrong codes: the booking must be made again.' }),
  BOOKING_NOT_CONFIRMED: () => ({ vi: 'Lịch hẹn này chưa được xác nhận.', en: 'This booking was never confirmed.' }),
  BOOKING_CANCELLED: () => ({ vi: 'Lịch hẹn này đã bị hủy.', en: 'This booking was cancelled.' }),
  BOOKING_USED: () => ({ vi: 'Lịch hẹn này đã được lấy số.', en: 'This booking has already been checked in.' }),
  BOOKING_MISSED: () => ({ vi: 'Đã qua ngày của lịch hẹn này.', en: 'The day of this booking is over.' }),
  BOOKING_LAPSED: () => ({ vi: 'Số lấy từ xa này đã hết hiệu lực vì không đến kịp.', en: 'This number taken from away lapsed: it was not claimed in time.' }),
  BOOKING_OTHER_DAY: () => ({ vi: 'Lịch hẹn này là của ngày khác.', en: 'This booking is for another day.' }),
  BOOKING_TOO_EARLY: () => ({ vi: 'Chưa đến giờ lấy số của lịch hẹn này.', en: 'Check-in for this booking has not opened yet.' }),
  BOOKING_NOT_CHANGEABLE: () => ({ vi: 'Lịch hẹn này không còn thay đổi được.', en: 'This booking can no longer be changed.' }),
  REMOTE_NOT_OFFERED: () => ({ vi: 'Trung tâm không cho lấy số từ xa.', en: 'The centre gives no numbers from away.' }),
  INVALID_CAPACITY: () => ({ vi: 'Sức chứa lịch hẹn không hợp lệ.', en: 'The booking capacity is not valid.' }),

  // ratings
  ALREADY_RATED: () => ({ vi: 'Lượt phục vụ này đã được đánh giá.', en: 'This visit has already been rated.' }),
  RATING_NOT_OFFERED: () => ({ vi: 'Máy chỉ đánh giá lượt phục vụ vừa kết thúc tại quầy.', en: 'This tablet rates only the visit the counter has just finished.' }),
  RATING_WINDOW_CLOSED: () => ({ vi: 'Đã hết thời gian đánh giá lượt phục vụ này.', en: 'The time to rate this visit has passed.' }),
  TICKET_NOT_SERVED: () => ({ vi: 'Lượt phục vụ chưa kết thúc nên chưa thể đánh giá.', en: 'The visit has not finished yet, so it cannot be rated.' }),
  INVALID_SCORE: () => ({ vi: 'Mức đánh giá không hợp lệ.', en: 'That rating is not on the scale.' }),
  INVALID_REASON: () => ({ vi: 'Lý do không hợp lệ.', en: 'That reason is not on the list.' }),

  // transport and server
  VALIDATION_FAILED: () => ({ vi: 'Dữ liệu gửi lên không hợp lệ.', en: 'The request was not valid.' }),
  BAD_REQUEST: () => ({ vi: 'Dữ liệu gửi lên không hợp lệ.', en: 'The request was not valid.' }),
  INVALID_JSON: () => ({ vi: 'Dữ liệu gửi lên không hợp lệ.', en: 'The request was not valid.' }),
  BODY_TOO_LARGE: () => ({ vi: 'Nội dung quá dài.', en: 'The text is too long.' }),
  NOT_FOUND: () => ({ vi: 'Máy chủ không có chức năng này (phiên bản cũ?).', en: 'The server does not offer this (an older version?).' }),
  UNAVAILABLE: () => ({ vi: 'Máy chủ tạm thời không truy cập được cơ sở dữ liệu. Vui lòng thử lại sau ít phút.', en: 'The server cannot reach its database right now. Try again in a few minutes.' }),
  INTERNAL: () => ({ vi: 'Máy chủ gặp lỗi. Vui lòng thử lại; nếu lặp lại, hãy báo quản trị viên.', en: 'The server hit an error. Try again; if it happens again, tell the administrator.' }),
};

export const EXPLAINED_CODES = Object.keys(MESSAGES) as ErrorCode[];

export function explainText(error: unknown, ctx: ErrorContext = {}): Text {
  if (error instanceof ApiError) {
    const message = MESSAGES[error.code as ErrorCode];
    if (message) return message(error, ctx);
    if (error.status >= 500) return MESSAGES.INTERNAL!(error, ctx);
    return { vi: `Không thực hiện được (${error.code}).`, en: `${error.message} (${error.code}).` };
  }
  // fetch rejects with a TypeError when the server cannot be reached
  return { vi: 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.', en: 'Cannot reach the server. Check the network and try again.' };
}

export function explain(error: unknown, lang: Lang, ctx: ErrorContext = {}): string {
  return explainText(error, ctx)[lang];
}
