// The signature of an alert delivery: `Credits-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
// keyed with the webhook's secret. The timestamp lets a receiver refuse old replays; docs/alerts.md shows the check.
import { createHmac } from 'node:crypto';

export const SIGNATURE_HEADER = 'Credits-Signature';

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${v1}`;
}
