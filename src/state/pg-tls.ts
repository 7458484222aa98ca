// DATABASE_URL's sslmode as libpq means it, and TLS failures explained: managed PostgreSQL providers hand out
// URLs with `sslmode=require`, which libpq reads as "encrypt, do not verify" while node-postgres alone reads it
// as verify-full (and prints a deprecation warning).
import { CreditsError } from '../errors.js';

/** The URL with node-postgres told to follow libpq's sslmode meanings, when the URL names an sslmode. */
export function withLibpqSslModes(url: string): string {
  if (!/[?&]sslmode=/.test(url) || /[?&]uselibpqcompat=/.test(url)) return url;
  const hash = url.indexOf('#');
  const [base, fragment] = hash < 0 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
  return `${base}${base.includes('?') ? '&' : '?'}uselibpqcompat=true${fragment}`;
}

// Node's codes for a certificate chain or name that could not be verified.
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A coded error that says which sslmode to use, for a TLS failure while connecting; undefined otherwise. */
export function tlsConnectError(err: unknown): CreditsError | undefined {
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNTRUSTED.has(code)) {
    return new CreditsError('DATABASE_TLS_UNTRUSTED', { reason: code }, { code });
  }
  const text = typeof message === 'string' ? message : '';
  if (/does not support SSL/i.test(text)) return new CreditsError('DATABASE_TLS_UNSUPPORTED');
  // pg-connection-string refuses verify-ca without a CA, with a paragraph-long "SECURITY WARNING".
  if (/verify-ca requires specifying a CA/.test(text)) {
    return new CreditsError('DATABASE_TLS_UNTRUSTED', { reason: 'verify-ca without sslrootcert' });
  }
  return undefined;
}
