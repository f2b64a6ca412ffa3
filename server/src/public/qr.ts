import QRCode from 'qrcode';

// QR codes on the public pages, drawn by the same package as the printed ticket's
// (hardware/src/ticket/ticket.render.ts), as one inline SVG path: sharp at any size and on paper,
// no image request, nothing for the page's CSP to allow.

/** An SVG of the QR code of `text`, with the quiet zone the standard asks for; `label` is its accessible name. */
export function qrSvg(text: string, label: string, className = 'qr'): string {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  const quiet = 4;
  let d = '';
  for (let row = 0; row < size; row++) {
    // one rectangle per horizontal run of dark modules
    let col = 0;
    while (col < size) {
      if (!qr.modules.get(row, col)) {
        col++;
        continue;
      }
      const start = col;
      while (col < size && qr.modules.get(row, col)) col++;
      d += `M${start + quiet} ${row + quiet}h${col - start}v1h-${col - start}z`;
    }
  }
  const total = size + 2 * quiet;
  const name = label.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<svg class="${className}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${total} ${total}" role="img" aria-label="${name}" shape-rendering="crispEdges">`
    + `<rect width="${total}" height="${total}" fill="#fff"/><path d="${d}" fill="#000"/></svg>`;
}
