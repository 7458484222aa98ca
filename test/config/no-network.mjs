// Preloaded into the YAML language server in tests: any outbound connection or HTTP request is refused and
// reported on stderr as `NETWORK ACCESS: <target>`, so a test can assert the server never used the network.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { syncBuiltinESMExports } from 'node:module';

const refuse = (what) => {
  process.stderr.write(`NETWORK ACCESS: ${what}\n`);
  throw new Error(`network access refused in tests: ${what}`);
};
const target = (args) => {
  const [first] = args;
  if (typeof first === 'string' || first instanceof URL) return String(first);
  if (first && typeof first === 'object') return `${first.host ?? first.hostname ?? ''}:${first.port ?? ''}`;
  return String(first);
};

for (const mod of [http, https]) {
  mod.request = (...args) => refuse(target(args));
  mod.get = (...args) => refuse(target(args));
}
net.connect = net.createConnection = (...args) => refuse(target(args));
globalThis.fetch = (input) => refuse(String(input?.url ?? input));
// `import { request } from 'node:http'` sees the patched functions only after this.
syncBuiltinESMExports();
