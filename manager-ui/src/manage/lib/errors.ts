import { ApiError } from '@qms/protocol/client';
import type { Lang } from '@qms/ui-shared/format';

// What a manager reads when the server refuses: the API's stable code in plain words.

type Text = { vi: string; en: string };

const MESSAGES: Record<string, Text> = {
  INVALID_CREDENTIALS: { vi: 'Sai tên đăng nhập hoặc mật khẩu.', en: 'Wrong username or password.' },
  UNAUTHENTICATED: { vi: 'Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.', en: 'Your session has expired. Please sign in again.' },
  FORBIDDEN: { vi: 'Bạn không có quyền thực hiện thao tác này.', en: 'You are not allowed to do this.' },
  RATE_LIMITED: { vi: 'Thao tác quá nhiều lần. Vui lòng đợi một phút.', en: 'Too many attempts. Wait a minute.' },
  VALIDATION_FAILED: { vi: 'Dữ liệu chưa hợp lệ. Kiểm tra lại các ô đã nhập.', en: 'Some values are not valid. Check the fields.' },
  INVALID_RANGE: { vi: 'Ngày kết thúc phải sau ngày bắt đầu.', en: 'The end date must come after the start date.' },
  INVALID_PERIOD: { vi: 'Kỳ báo cáo không hợp lệ: chọn một tháng hoặc một quý của năm từ 2000.', en: 'The period is not valid: choose a month or a quarter of a year from 2000.' },
  INVALID_GROUP_BY: { vi: 'Cách nhóm báo cáo không hợp lệ.', en: 'That grouping is not valid.' },
  INVALID_TIMEZONE: { vi: 'Múi giờ không hợp lệ.', en: 'Unknown timezone.' },
  INVALID_OPENING_HOURS: { vi: 'Giờ làm việc không hợp lệ: giờ mở phải trước giờ đóng và các buổi không được chồng lên nhau.', en: 'Opening hours are not valid: opening before closing, sessions not overlapping.' },
  DUPLICATE_HOLIDAY: { vi: 'Một ngày nghỉ bị nhập hai lần.', en: 'A holiday is listed twice.' },
  INVALID_RATING_SCALE: { vi: 'Thang đánh giá không hợp lệ (điểm hoặc mã lý do bị trùng).', en: 'The rating scale is not valid (a score or reason code is repeated).' },
  INVALID_ANNOUNCEMENT: { vi: 'Câu thông báo phải chứa {code} và {counter}.', en: 'The phrase must contain {code} and {counter}.' },
  INVALID_PRIORITY_GROUP: { vi: 'Nhóm ưu tiên không hợp lệ (mã bị trùng hoặc là "none").', en: 'Priority groups are not valid (a repeated code, or "none").' },
  SERVICE_CODE_TAKEN: { vi: 'Mã lĩnh vực đã được dùng.', en: 'That service code is taken.' },
  PREFIX_TAKEN: { vi: 'Chữ cái đầu số đã được lĩnh vực khác dùng.', en: 'Another service uses that prefix.' },
  SERVICE_HAS_TICKETS: { vi: 'Lĩnh vực còn công dân đang chờ hoặc đang được phục vụ.', en: 'People are still waiting or being served in this service.' },
  SERVICE_NOT_FOUND: { vi: 'Không tìm thấy lĩnh vực.', en: 'Service not found.' },
  DUPLICATE_PROCEDURE: { vi: 'Một mã thủ tục bị nhập hai lần.', en: 'A procedure code is listed twice.' },
  DUPLICATE_SERVICE: { vi: 'Một lĩnh vực bị chọn hai lần.', en: 'A service is chosen twice.' },
  COUNTER_NUMBER_TAKEN: { vi: 'Số quầy đã tồn tại.', en: 'That counter number exists.' },
  COUNTER_IN_USE: { vi: 'Quầy đang mở: cán bộ cần đóng quầy trước.', en: 'The counter is open: its official closes it first.' },
  COUNTER_NOT_FOUND: { vi: 'Không tìm thấy quầy.', en: 'Counter not found.' },
  COUNTER_REQUIRED: { vi: 'Máy đánh giá và máy quầy cần chọn quầy.', en: 'Rating tablets and counter devices need a counter.' },
  USERNAME_TAKEN: { vi: 'Tên đăng nhập đã tồn tại.', en: 'That username is taken.' },
  USER_NOT_FOUND: { vi: 'Không tìm thấy tài khoản.', en: 'Account not found.' },
  PHOTO_UNSUPPORTED_TYPE: { vi: 'Ảnh phải là tệp JPEG, PNG hoặc WebP.', en: 'A photo must be a JPEG, PNG or WebP file.' },
  PHOTO_UNREADABLE: { vi: 'Tệp ảnh bị hỏng hoặc không đầy đủ.', en: 'The image file is damaged or incomplete.' },
  PHOTO_TOO_MANY_PIXELS: { vi: 'Ảnh quá lớn (tối đa 24 triệu điểm ảnh). Hãy thu nhỏ ảnh rồi tải lại.', en: 'The image is too large (24 megapixels at most). Make it smaller and upload it again.' },
  PHOTO_NOT_FOUND: { vi: 'Cán bộ này chưa có ảnh.', en: 'This official has no photo.' },
  BODY_TOO_LARGE: { vi: 'Tệp quá lớn: ảnh tối đa 2 MB.', en: 'The file is too large: a photo is 2 MB at most.' },
  NOT_A_DISPLAY: { vi: 'Chỉ màn hình gọi số mới có vùng hiển thị.', en: 'Only displays have a zone.' },
  NOT_A_KIOSK: { vi: 'Chỉ máy lấy số mới có máy in vé.', en: 'Only kiosks have a ticket printer.' },
  PRINTER_ADDRESS_REFUSED: {
    vi: 'Địa chỉ này không thể là máy in: đó là chính máy chủ, địa chỉ loopback hoặc link-local, địa chỉ quảng bá, hoặc cổng của máy chủ hay cơ sở dữ liệu. Nhập địa chỉ IP của máy in trong mạng của trung tâm.',
    en: 'A printer cannot be at this address: it is this server itself, a loopback or link-local address, a broadcast address, or a port of the server or its database. Enter the printer\'s address on the centre\'s network.',
  },
  AGENT_DEVICE_NOT_FOUND: { vi: 'Thiết bị của phần mềm trạm không thuộc trung tâm này hoặc đã bị thu hồi.', en: 'The site agent\'s device is not of this site, or was revoked.' },
  DEVICE_NOT_FOUND: { vi: 'Không tìm thấy thiết bị (có thể đã bị thu hồi).', en: 'Device not found (it may be revoked).' },
  SITE_NOT_FOUND: { vi: 'Không tìm thấy trung tâm.', en: 'Site not found.' },
  SITE_CODE_TAKEN: { vi: 'Mã trung tâm đã tồn tại.', en: 'That site code exists.' },
  ALERT_NOT_FOUND: { vi: 'Không tìm thấy cảnh báo.', en: 'Alert not found.' },
  INVALID_JSON: { vi: 'Ô JSON chưa đúng cú pháp.', en: 'A JSON field is not valid JSON.' },
  INVALID_CHANNEL_SETTINGS: { vi: 'Cài đặt kênh chưa hợp lệ: kiểm tra các ô bắt buộc (*).', en: 'The channel settings are not valid: check the required fields (*).' },
  CHANNEL_NOT_SET_UP: { vi: 'Hãy lưu cài đặt của kênh trước.', en: 'Save the channel\'s settings first.' },
  INVALID_PHONE: { vi: 'Số điện thoại di động không hợp lệ (ví dụ 0912 345 678).', en: 'Not a valid mobile number (e.g. 0912 345 678).' },
  INVALID_ADDRESS: { vi: 'Địa chỉ thư điện tử không hợp lệ.', en: 'Not a valid email address.' },
  WEBHOOK_NOT_FOUND: { vi: 'Không tìm thấy webhook.', en: 'Webhook not found.' },
  DELIVERY_NOT_FOUND: { vi: 'Không tìm thấy tin (địa chỉ có thể đã bị xoá theo thời hạn lưu).', en: 'Message not found (its address may have been erased).' },
  RECIPIENT_NOT_FOUND: { vi: 'Không tìm thấy người nhận.', en: 'Recipient not found.' },
  NOT_A_COMPLAINT: { vi: 'Chỉ phản ánh và đánh giá không hài lòng mới có hồ sơ xử lý.', en: 'Only complaints and dissatisfied ratings have a case.' },
  UNKNOWN_PROCEDURE: { vi: 'Trung tâm không có thủ tục này (kiểm tra mã thủ tục).', en: 'The centre does not list this procedure (check its code).' },
  DOSSIER_NOT_FOUND: { vi: 'Không có lượt phục vụ nào ghi mã hồ sơ này.', en: 'No visit recorded this dossier code.' },
  TICKET_NOT_AT_YOUR_COUNTER: { vi: 'Chỉ cán bộ đang phục vụ số này tại quầy (hoặc quản lý) mới ghi được thủ tục, hồ sơ.', en: 'Only the official serving this ticket at their counter (or a manager) records its procedures and dossiers.' },
  INVALID_CAPACITY: { vi: 'Có khung giờ ngoài giờ làm việc, lệch với độ dài khung giờ, hoặc thuộc lĩnh vực của trung tâm khác. Tải lại trang rồi thử lại.', en: 'A block is outside the opening hours, off the block length, or of another site’s field. Reload the page and try again.' },
  UNAVAILABLE: { vi: 'Máy chủ tạm thời không truy cập được cơ sở dữ liệu. Thử lại sau ít phút.', en: 'The server cannot reach its database. Try again in a few minutes.' },
  INTERNAL: { vi: 'Máy chủ gặp lỗi. Vui lòng thử lại.', en: 'The server hit an error. Try again.' },
  REPORT_TIMED_OUT: { vi: 'Báo cáo chạy quá thời gian cho phép. Hãy chọn khoảng thời gian ngắn hơn, hoặc thử lại lúc ít người xem báo cáo.', en: 'The report took longer than allowed. Choose a shorter range, or try again when fewer reports run.' },
  REPORTS_BUSY: { vi: 'Máy chủ đang bận với các báo cáo khác. Vui lòng thử lại sau ít giây.', en: 'The server is busy with other reports. Try again in a few seconds.' },
};

export const EXPLAINED_CODES = Object.keys(MESSAGES);

export function explain(error: unknown, lang: Lang): string {
  if (error instanceof ApiError) {
    const text = MESSAGES[error.code] ?? (error.status >= 500 ? MESSAGES.INTERNAL : undefined);
    return text ? text[lang] : lang === 'vi' ? `Không thực hiện được (${error.code}).` : `${error.message} (${error.code}).`;
  }
  if (error instanceof DOMException && error.name === 'AbortError') return lang === 'vi' ? 'Đã huỷ.' : 'Cancelled.';
  return lang === 'vi' ? 'Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.' : 'Cannot reach the server. Check the network and try again.';
}
