// CSV replies: chosen by `Accept: text/csv`, streamed chunk by chunk as the ledger reads its batches, so
// an export of any size never sits whole in memory; backpressure from a slow client pauses the reading.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** True when the client asks for CSV (`text/csv` in Accept with a non-zero q) rather than JSON. */
export function wantsCsv(req: FastifyRequest): boolean {
  const accept = req.headers.accept;
  if (!accept) return false;
  return accept.split(',').some((part) => {
    const [type, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find(Boolean);
    return type!.trim().toLowerCase() === 'text/csv' && (!q || Number(q[1]) > 0);
  });
}

/** Answers with the chunks as a CSV download named `filename`. */
export function csvReply(reply: FastifyReply, filename: string, chunks: AsyncIterable<string>): Readable {
  reply.header('content-type', 'text/csv; charset=utf-8');
  reply.header('content-disposition', `attachment; filename="${filename}"`);
  return Readable.from(chunks);
}
