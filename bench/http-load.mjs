// A lean loopback HTTP/1.1 load tool: N keep-alive connections, each sending its next request as soon as the
// previous response is complete. It costs a fraction of autocannon's CPU per request, which matters on a
// 2-core machine where the load tool, the API and PostgreSQL share the cores (pgbench, the floor, is C).
// Responses are parsed only as far as the status line and Content-Length (the API never chunks).
import { connect } from 'node:net';

/**
 * @param {{ port: number, connections: number, seconds: number,
 *           request: (i: number) => { method: string, path: string, headers?: Record<string,string>, body?: string } }} opts
 * @returns {Promise<{ requests: number, perSecond: number, non2xx: number, p50: number, p99: number, statuses: Record<number, number> }>}
 */
export async function httpLoad({ port, connections, seconds, request }) {
  let seq = 0;
  let non2xx = 0;
  const statuses = {};
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  const started = performance.now();

  const build = () => {
    const r = request(seq++);
    const body = r.body ?? '';
    let head = `${r.method} ${r.path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`;
    for (const [k, v] of Object.entries(r.headers ?? {})) head += `${k}: ${v}\r\n`;
    return head + '\r\n' + body;
  };

  const one = () =>
    new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let buffered = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (Date.now() >= deadline) {
          socket.end();
          return resolve();
        }
        sentAt = performance.now();
        socket.write(build());
      };
      socket.on('connect', send);
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
        for (;;) {
          const end = buffered.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buffered.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
          if (buffered.length < end + 4 + length) return;
          const status = Number(head.slice(9, 12));
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status < 200 || status > 299) non2xx++;
          latencies.push(performance.now() - sentAt);
          buffered = buffered.subarray(end + 4 + length);
          send();
        }
      });
    });

  await Promise.all(Array.from({ length: connections }, one));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return {
    requests: latencies.length,
    perSecond: latencies.length / elapsed,
    non2xx,
    statuses,
    p50: at(0.5),
    p99: at(0.99),
  };
}
