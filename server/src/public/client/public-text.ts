// Every phrase a citizen reads on the centre's public pages (docs/public-page.md), Vietnamese
// first. The server renders the pages with it and the pages' script (public-page.ts) bundles it,
// so both say the same thing. `{x}` marks what is filled in.

const vi = {
  toggle: 'English', openNow: 'Đang mở cửa', closedNow: 'Đang đóng cửa', todayHours: 'Hôm nay', hours: 'Giờ làm việc',
  closed: 'Nghỉ', holidays: 'Ngày nghỉ lễ', fields: 'Lĩnh vực', waiting: 'Đang chờ', eta: 'Chờ dự kiến',
  counters: 'Quầy đang phục vụ', procedures: 'Thủ tục', book: 'Đặt lịch hẹn', now: 'Lấy số từ xa',
  updated: 'Cập nhật lúc', offline: 'Mất kết nối, đang thử lại…', auto: 'Số liệu tự cập nhật sau mỗi 20 giây.',
  qrSheet: 'In mã QR của các thủ tục', back: 'Về trang trung tâm', people: '{n} người', noProcedures: 'Chưa có danh sách thủ tục.',
  // ISO weekdays, Monday first, as the opening hours
  weekdays: 'Thứ Hai|Thứ Ba|Thứ Tư|Thứ Năm|Thứ Sáu|Thứ Bảy|Chủ nhật',
  // a procedure
  nationalCode: 'Mã thủ tục', handledBy: 'Lĩnh vực tiếp nhận', steps: 'Trình tự thực hiện', documents: 'Hồ sơ cần mang theo',
  processing: 'Thời hạn giải quyết', fees: 'Phí, lệ phí', portal: 'Xem trên Cổng Dịch vụ công quốc gia', days: '{n} ngày làm việc',
  sameDay: 'Trả kết quả trong ngày', noInfo: 'Chưa có thông tin chi tiết về thủ tục này. Vui lòng hỏi quầy hướng dẫn.',
  scan: 'Quét mã để mở trang này trên điện thoại', procedureMissing: 'Không tìm thấy thủ tục này tại trung tâm.',
  // the QR sheet
  sheetTitle: 'Mã QR các thủ tục hành chính', print: 'In trang này', sheetHelp: 'Khổ A4, mỗi thẻ một thủ tục: cắt và dán lên bảng thông tin.',
  // booking and remote tickets
  bookTitle: 'Đặt lịch hẹn', nowTitle: 'Lấy số từ xa',
  nowIntro: 'Lấy số thứ tự cho hôm nay ngay bây giờ, rồi đến trung tâm trước giờ được hẹn và quét mã tại ki-ốt.',
  stepField: 'Chọn lĩnh vực', procedureOpt: 'Thủ tục (không bắt buộc)', anyProcedure: '— Chưa chọn —',
  stepDate: 'Chọn ngày', stepSlot: 'Chọn giờ', left: 'còn {n} chỗ', noSlots: 'Ngày này không còn giờ trống. Vui lòng chọn ngày khác.',
  noDays: 'Chưa có ngày nào nhận đặt lịch.', loading: 'Đang tải…', stepContact: 'Nhận mã xác nhận qua',
  phone: 'Số điện thoại di động', email: 'Email', idNumber: 'Số CCCD (không bắt buộc)',
  idHelp: '12 chữ số trên căn cước công dân gắn chip: để làm thủ tục tại ki-ốt bằng cách quét thẻ.',
  consentTitle: 'Đồng ý xử lý dữ liệu cá nhân', agree: 'Tôi đã đọc và đồng ý', send: 'Gửi mã xác nhận',
  sentTo: 'Mã xác nhận gồm 6 chữ số đã được gửi đến {c}.', enterCode: 'Nhập mã xác nhận', confirm: 'Xác nhận',
  resend: 'Gửi lại mã', resent: 'Đã gửi lại mã.', validUntil: 'Mã có hiệu lực đến {t}.', noneOffered: 'Trung tâm hiện chưa nhận đặt lịch trực tuyến.',
  noContact: 'Trung tâm chưa thể gửi mã xác nhận. Vui lòng đến trực tiếp.', comeBy: 'Vui lòng có mặt trước {t}', comeByLbl: 'Vui lòng có mặt trước', bookAgain: 'Đặt lịch hẹn mới', seeBooking: 'Xem lịch hẹn của bạn',
  confirmed: 'Đã xác nhận!', chosen: 'Bạn chọn',
  // a booking's page
  bookingTitle: 'Lịch hẹn', remoteTitle: 'Số từ xa', codeLbl: 'Mã lịch hẹn', field: 'Lĩnh vực', procedure: 'Thủ tục',
  date: 'Ngày', time: 'Giờ', status: 'Trạng thái', contact: 'Gửi thông báo đến',
  st_unconfirmed: 'Chưa xác nhận', st_confirmed: 'Đã xác nhận', st_checked_in: 'Đã lấy số', st_cancelled: 'Đã hủy',
  st_missed: 'Đã lỡ hẹn', st_lapsed: 'Hết hiệu lực (không được xác nhận)',
  checkIn: 'Lấy số tại ki-ốt từ {a} đến {b}', showQr: 'Đưa mã QR này vào máy quét của ki-ốt, hoặc nhập mã lịch hẹn.',
  ics: 'Thêm vào lịch', move: 'Đổi giờ hẹn', cancel: 'Hủy lịch hẹn', cancelQ: 'Bạn chắc chắn muốn hủy lịch hẹn này?',
  cancelYes: 'Có, hủy lịch hẹn', keep: 'Không, giữ lịch hẹn', moveTo: 'Chọn ngày và giờ mới', moveGo: 'Đổi sang giờ này', moved: 'Đã đổi giờ hẹn.',
  cancelledMsg: 'Lịch hẹn đã được hủy.', ticketLink: 'Theo dõi số thứ tự {c}', bookingMissing: 'Không tìm thấy lịch hẹn này.',
  bookingMissingHelp: 'Đường dẫn có thể chưa đầy đủ. Vui lòng mở lại đường dẫn trong tin nhắn hoặc email, hoặc hỏi quầy hướng dẫn.',
  centreMissing: 'Không tìm thấy trung tâm này.',
  // refusals, by the API's error codes
  e_SLOT_FULL: 'Giờ này vừa hết chỗ. Vui lòng chọn giờ khác.', e_SLOT_NOT_OFFERED: 'Giờ này không nhận đặt lịch. Vui lòng chọn giờ khác.',
  e_BOOKING_LIMIT: 'Số điện thoại hoặc email này đã có đủ số lịch hẹn được phép trong ngày.',
  e_VERIFICATION_FAILED: 'Mã xác nhận chưa đúng. Vui lòng nhập lại.', e_VERIFICATION_EXPIRED: 'Mã xác nhận đã hết hạn. Bấm “Gửi lại mã”.',
  e_VERIFICATION_LOCKED: 'Nhập sai mã quá nhiều lần. Vui lòng đặt lịch lại.', e_CONTACT_REQUIRED: 'Vui lòng nhập số điện thoại hoặc email.',
  e_CONSENT_REQUIRED: 'Vui lòng đánh dấu đồng ý để tiếp tục.', e_BOOKINGS_CLOSED: 'Lĩnh vực này hiện không nhận đặt lịch.',
  e_REMOTE_NOT_OFFERED: 'Hiện không thể lấy số từ xa cho lĩnh vực này.', e_BOOKING_NOT_CHANGEABLE: 'Lịch hẹn này không thể thay đổi nữa.',
  e_INVALID_ID_NUMBER: 'Số CCCD phải gồm đúng 12 chữ số.', e_INVALID_PHONE: 'Số điện thoại chưa đúng: vui lòng nhập số di động, ví dụ 0912 345 678.',
  e_INVALID_ADDRESS: 'Địa chỉ email chưa đúng.', e_CONTACT_NOT_OFFERED: 'Trung tâm chưa gửi được mã qua kênh này. Vui lòng chọn kênh khác.',
  e_SITE_CLOSED: 'Trung tâm đang đóng cửa.', e_SERVICE_CLOSING: 'Lĩnh vực này sắp hết giờ tiếp nhận hôm nay.',
  e_RATE_LIMITED: 'Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.', e_BOOKING_NOT_FOUND: 'Không tìm thấy lịch hẹn này.',
  e_BOOKING_CANCELLED: 'Lịch hẹn này đã bị hủy.', e_BOOKING_NOT_CONFIRMED: 'Lịch hẹn chưa được xác nhận.',
  e_CHANNEL_NOT_SET_UP: 'Trung tâm chưa gửi được mã qua kênh này. Vui lòng chọn kênh khác hoặc đến trực tiếp.',
  e_VALIDATION_FAILED: 'Thông tin chưa đúng. Vui lòng kiểm tra lại.', e_other: 'Chưa thực hiện được. Vui lòng thử lại.',
};

type Texts = Record<keyof typeof vi, string>;

const en: Texts = {
  toggle: 'Tiếng Việt', openNow: 'Open now', closedNow: 'Closed now', todayHours: 'Today', hours: 'Opening hours',
  closed: 'Closed', holidays: 'Public holidays', fields: 'Fields', waiting: 'Waiting', eta: 'Estimated wait',
  counters: 'Counters serving', procedures: 'Procedures', book: 'Book a time', now: 'Take a number now',
  updated: 'Updated at', offline: 'Connection lost, retrying…', auto: 'The figures refresh every 20 seconds.',
  qrSheet: 'Print the procedures’ QR codes', back: 'Back to the centre', people: '{n} people', noProcedures: 'No procedures listed yet.',
  weekdays: 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday',
  nationalCode: 'National code', handledBy: 'Handled by the field', steps: 'Steps', documents: 'Documents to bring',
  processing: 'Processing time', fees: 'Fees', portal: 'See it on the National Public Service Portal', days: '{n} working days',
  sameDay: 'Same day', noInfo: 'No details about this procedure yet. Please ask at the information desk.',
  scan: 'Scan to open this page on your phone', procedureMissing: 'This centre has no such procedure.',
  sheetTitle: 'QR codes of the administrative procedures', print: 'Print this page', sheetHelp: 'A4, one card per procedure: cut them out for the notice boards.',
  bookTitle: 'Book a time', nowTitle: 'Take a number now',
  nowIntro: 'Take a number for today now, then come to the centre by the time you are given and scan your code at the kiosk.',
  stepField: 'Choose a field', procedureOpt: 'Procedure (optional)', anyProcedure: '— Not chosen —',
  stepDate: 'Choose a day', stepSlot: 'Choose a time', left: '{n} left', noSlots: 'No free time on this day. Please choose another day.',
  noDays: 'No day can be booked yet.', loading: 'Loading…', stepContact: 'Where to send your code',
  phone: 'Mobile number', email: 'Email', idNumber: 'ID card number (optional)',
  idHelp: 'The 12 digits on your chip citizen ID card (CCCD): to check in at the kiosk by scanning your card.',
  consentTitle: 'Consent to processing personal data', agree: 'I have read this and I agree', send: 'Send me the code',
  sentTo: 'A 6-digit code was sent to {c}.', enterCode: 'Enter the code', confirm: 'Confirm',
  resend: 'Send the code again', resent: 'The code was sent again.', validUntil: 'The code is valid until {t}.', noneOffered: 'This centre does not take bookings online yet.',
  noContact: 'This centre cannot send codes yet. Please come in person.', comeBy: 'Please be there by {t}', comeByLbl: 'Please be there by', bookAgain: 'Book another time', seeBooking: 'See your booking',
  confirmed: 'Confirmed!', chosen: 'You chose',
  bookingTitle: 'Your booking', remoteTitle: 'Remote ticket', codeLbl: 'Booking code', field: 'Field', procedure: 'Procedure',
  date: 'Date', time: 'Time', status: 'Status', contact: 'Messages go to',
  st_unconfirmed: 'Not confirmed yet', st_confirmed: 'Confirmed', st_checked_in: 'Checked in', st_cancelled: 'Cancelled',
  st_missed: 'Missed', st_lapsed: 'Lapsed (never confirmed)',
  checkIn: 'Check in at the kiosk from {a} to {b}', showQr: 'Hold this QR code to the kiosk’s scanner, or type the booking code.',
  ics: 'Add to calendar', move: 'Change the time', cancel: 'Cancel the booking', cancelQ: 'Do you really want to cancel this booking?',
  cancelYes: 'Yes, cancel it', keep: 'No, keep it', moveTo: 'Choose a new day and time', moveGo: 'Move to this time', moved: 'The time was changed.',
  cancelledMsg: 'The booking was cancelled.', ticketLink: 'Follow your ticket {c}', bookingMissing: 'This booking was not found.',
  bookingMissingHelp: 'The link may be incomplete. Please open the link in your text message or email again, or ask at the information desk.',
  centreMissing: 'This centre was not found.',
  e_SLOT_FULL: 'This time has just filled up. Please choose another.', e_SLOT_NOT_OFFERED: 'This time cannot be booked. Please choose another.',
  e_BOOKING_LIMIT: 'This phone number or email already has as many bookings as allowed that day.',
  e_VERIFICATION_FAILED: 'That code is not right. Please try again.', e_VERIFICATION_EXPIRED: 'The code has expired. Tap “Send the code again”.',
  e_VERIFICATION_LOCKED: 'Too many wrong codes. Please book again.', e_CONTACT_REQUIRED: 'Please enter a phone number or an email.',
  e_CONSENT_REQUIRED: 'Please tick “I agree” to go on.', e_BOOKINGS_CLOSED: 'This field takes no bookings now.',
  e_REMOTE_NOT_OFFERED: 'Numbers cannot be taken from away for this field now.', e_BOOKING_NOT_CHANGEABLE: 'This booking can no longer be changed.',
  e_INVALID_ID_NUMBER: 'An ID card number has exactly 12 digits.', e_INVALID_PHONE: 'That is not a mobile number: please enter one like 0912 345 678.',
  e_INVALID_ADDRESS: 'That email address is not right.', e_CONTACT_NOT_OFFERED: 'The centre cannot send a code that way. Please choose the other.',
  e_SITE_CLOSED: 'The centre is closed now.', e_SERVICE_CLOSING: 'This field stops taking numbers soon today.',
  e_RATE_LIMITED: 'Too many tries. Please wait a few minutes.', e_BOOKING_NOT_FOUND: 'This booking was not found.',
  e_BOOKING_CANCELLED: 'This booking was cancelled.', e_BOOKING_NOT_CONFIRMED: 'This booking is not confirmed yet.',
  e_CHANNEL_NOT_SET_UP: 'The centre cannot send a code that way. Please choose the other, or come in person.',
  e_VALIDATION_FAILED: 'Something is not filled in right. Please check.', e_other: 'That did not work. Please try again.',
};

export type Lang = 'vi' | 'en';
export type TextKey = keyof typeof vi;
export const TEXT: Record<Lang, Texts> = { vi, en };

/** `{x}` in a phrase filled in. */
export const fill = (phrase: string, values: Record<string, string | number>) =>
  phrase.replace(/\{(\w+)\}/g, (_, key: string) => String(values[key] ?? ''));

/**
 * The consent a citizen gives before a code goes to their phone or email: always in Vietnamese
 * then English, whatever the page's language, as the decree's notice must be understood.
 */
export const CONSENT = {
  vi: 'Trung tâm dùng số điện thoại hoặc email (và số CCCD nếu bạn nhập) chỉ để gửi mã xác nhận, nhắc lịch và tìm lịch hẹn khi bạn đến; không dùng vào việc khác và không chuyển cho bên thứ ba. Dữ liệu được lưu đến hết ngày hẹn rồi tự động xóa (Nghị định 13/2023/NĐ-CP về bảo vệ dữ liệu cá nhân). Bạn có thể hủy lịch hẹn bất cứ lúc nào.',
  en: 'The centre uses your phone number or email (and your ID card number if you give it) only to send you the code, remind you and find your booking when you arrive; for nothing else, and it is passed to no one. It is kept until the end of the day of your booking, then erased automatically (Decree 13/2023/NĐ-CP on personal data protection). You can cancel the booking at any time.',
};
