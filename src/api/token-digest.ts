// The key under which this process remembers a token (the gate's known tokens, the token cache): its SHA-256,
// so no map ever holds a token itself. Computed once per request and handed on; the one-shot hash() spares
// the Hash object createHash() builds for every call.
import { hash } from 'node:crypto';

export const tokenDigest = (token: string): string => hash('sha256', token, 'base64');
