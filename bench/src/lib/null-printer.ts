import net from 'node:net';

// Network printers that print nothing: each listens on 127.0.0.1 (raw port-9100 protocol on a
// free port), answers every `DLE EOT n` status request "online, paper present", and throws the
// job away. One per kiosk, as on a real site (the server sends one job at a time per printer).

export interface NullPrinters {
  ports: number[];
  /** connections that carried a print job (more than a status request) */
  jobs(): number;
  bytes(): number;
  close(): Promise<void>;
}

export async function startNullPrinters(count: number): Promise<NullPrinters> {
  let jobs = 0;
  let bytes = 0;
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  for (let i = 0; i < count; i++) {
    const server = net.createServer((socket) => {
      sockets.add(socket);
      let received = 0;
      let tail = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        bytes += chunk.length;
        const window = Buffer.concat([tail, chunk]);
        let replies = 0;
        for (let j = 0; j + 2 < window.length; j++) if (window[j] === 0x10 && window[j + 1] === 0x04) replies++;
        tail = window.subarray(Math.max(0, window.length - 2));
        if (replies) socket.write(Buffer.alloc(replies, 0x12)); // fixed bits only: online, no error, paper ok
      });
      socket.on('error', () => {});
      socket.on('end', () => socket.end());
      socket.on('close', () => {
        sockets.delete(socket);
        if (received > 64) jobs++;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  return {
    ports: servers.map((s) => (s.address() as net.AddressInfo).port),
    jobs: () => jobs,
    bytes: () => bytes,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    },
  };
}
