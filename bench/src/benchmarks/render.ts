import { encodeTicket, renderTicket, type TicketPrintData } from '@qms/hardware';
import type { BenchContext, BenchResult } from '../lib/result.ts';
import { summarize, round } from '../lib/stats.ts';
import { now } from '../lib/util.ts';

// e. Ticket rendering: draw (text + QR into a 1-bit raster) and encode to ESC/POS, as the
// server does for every kiosk ticket. Floor: encoding a blank raster of the same size.

const sample = (i: number): TicketPrintData => ({
  centreName: 'Trung tâm Phục vụ hành chính công phường Đồng Cam',
  serviceName: { vi: 'Hộ tịch – Đăng ký khai sinh, kết hôn, khai tử', en: 'Civil status – Birth, marriage and death registration' },
  code: `A${String(i % 1000).padStart(3, '0')}`,
  peopleAhead: i % 37,
  estimatedWaitSeconds: 60 * (i % 45),
  issuedAt: new Date(Date.UTC(2026, 10, 24, 2, 15, i % 60)),
  timeZone: 'Asia/Ho_Chi_Minh',
  url: `http://192.168.1.10:8080/t/${'x'.repeat(22)}${i}`,
  ...(i % 5 === 0 ? { priorityLabel: { vi: 'Người cao tuổi (từ 60 tuổi)', en: 'Elderly (60+)' } } : {}),
});

export async function renderBench(ctx: BenchContext): Promise<BenchResult> {
  const iterations = ctx.num('render-iterations', 300, 60);
  for (let i = 0; i < 20; i++) encodeTicket(await renderTicket(sample(i))); // warm up fonts, JIT

  const render: number[] = [];
  const total: number[] = [];
  const blank: number[] = [];
  let width = 0;
  let height = 0;
  let bytes = 0;
  for (let i = 0; i < iterations; i++) {
    const t0 = now();
    const raster = await renderTicket(sample(i));
    const t1 = now();
    const job = encodeTicket(raster);
    const t2 = now();
    render.push(t1 - t0);
    total.push(t2 - t0);
    width = raster.width;
    height = raster.height;
    bytes = job.length;
    // floor, interleaved so both see the same machine noise
    const empty = { width, height, bits: new Uint8Array(Math.ceil(width / 8) * height) };
    const t3 = now();
    encodeTicket(empty);
    blank.push(now() - t3);
  }
  const t = summarize(total);
  const r = summarize(render);
  const f = summarize(blank);
  return {
    name: 'render',
    title: 'Ticket rendering (draw + encode one ticket)',
    figures: [
      { label: 'draw + encode, median', value: round(t.p50, 2), unit: 'ms', floor: round(f.p50, 3), ratio: round(t.p50 / f.p50, 0), target: 'median < 30 ms', met: t.p50 < 30 },
      { label: 'draw + encode, p99', value: round(t.p99, 2), unit: 'ms', floor: round(f.p99, 3), ratio: round(t.p99 / f.p99, 0) },
      { label: 'draw only, median', value: round(r.p50, 2), unit: 'ms' },
    ],
    notes: [
      `${iterations} tickets (80 mm, ${width}×${height} dots, ${bytes.toLocaleString('en-US')} bytes of ESC/POS each), after 20 warm-up tickets, in the bench process.`,
      'Floor: encodeTicket() of a blank raster of the same size, measured between the tickets. The ratio is large because encoding is a byte copy; drawing the text and QR code is the cost.',
    ],
    raw: { total: t, render: r, blank: f },
  };
}
