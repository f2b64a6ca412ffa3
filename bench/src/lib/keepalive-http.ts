import http from 'node:http';

// A JSON client on node:http with a keep-alive agent, for load generators that must cost the
// machine little: fetch (undici) costs 0.15-0.3 ms of the bench's CPU per request, this about
// 0.04 ms (docs/performance.md). One agent per server; sockets are reused between requests.

export interface JsonReply<T = any> {
  status: number;
  body: T;
}

export class KeepAliveClient {
  readonly agent: http.Agent;
  readonly host: string;
  readonly port: number;

  constructor(base: string, maxSockets = 64) {
    const url = new URL(base);
    this.host = url.hostname;
    this.port = Number(url.port);
    // an idle socket is closed by us after 4 s, before the server's keep-alive timeout (10 s by
    // default) can close it under a request: between turns the clients are idle for long
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 4_000 });
  }

  post<T = any>(path: string, token?: string, body: unknown = {}, timeoutMs = 15_000): Promise<JsonReply<T>> {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
    if (token) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const req = http.request({ agent: this.agent, host: this.host, port: this.port, method: 'POST', path, headers, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = chunks.length ? Buffer.concat(chunks).toString() : '';
          let parsed: unknown = raw;
          try {
            parsed = raw ? JSON.parse(raw) : null;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, body: parsed as T });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`POST ${path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(text);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
