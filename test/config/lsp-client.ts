// A minimal LSP client over stdio for the real YAML language server (the one editors run), so tests can
// check what a user sees in the editor: JSON-RPC with Content-Length framing, nothing else.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity?: number;
  source?: string;
}

interface Message {
  id?: number | string;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** Where the installed server's entry point is (its package.json has no `exports` for the bin). */
function serverEntry(): string {
  const pkg = createRequire(import.meta.url).resolve('yaml-language-server/package.json');
  return join(dirname(pkg), 'bin', 'yaml-language-server');
}

export class YamlLanguageServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private nextVersion = 1;
  private readonly pending = new Map<number, (m: Message) => void>();
  private readonly diagnostics = new Map<string, ((d: Diagnostic[]) => void)[]>();
  /** The server's stderr; the network guard (`NO_NETWORK`) writes `NETWORK ACCESS: …` there. */
  readonly stderr: string[] = [];

  constructor(
    private readonly settings: Record<string, unknown>,
    env: NodeJS.ProcessEnv = {},
  ) {
    this.child = spawn(process.execPath, [...NO_NETWORK, serverEntry(), '--stdio'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
  }

  async start(rootDir: string): Promise<void> {
    const rootUri = pathToFileURL(rootDir).href;
    await this.request('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: 'credits' }],
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: false } },
        textDocument: { publishDiagnostics: { relatedInformation: false } },
      },
    });
    this.notify('initialized', {});
    this.notify('workspace/didChangeConfiguration', { settings: this.settings });
  }

  /** Opens a document and resolves with the first diagnostics the server publishes for it. */
  diagnose(uri: string, text: string): Promise<Diagnostic[]> {
    const result = this.nextDiagnostics(uri);
    // A fresh version each time: the server caches parsed documents by URI and version.
    const version = this.nextVersion++;
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version, text } });
    return result;
  }

  /** The hover text at a 0-based line and character of an open document ('' when there is none). */
  async hover(uri: string, line: number, character: number): Promise<string> {
    const result = (await this.request('textDocument/hover', {
      textDocument: { uri },
      position: { line, character },
    })) as { contents?: { value?: string } | string } | null;
    const contents = result?.contents;
    return typeof contents === 'string' ? contents : (contents?.value ?? '');
  }

  /** Closes a document; resolves once the server has cleared its diagnostics, so a reopen starts afresh. */
  async close(uri: string): Promise<void> {
    const cleared = this.nextDiagnostics(uri);
    this.notify('textDocument/didClose', { textDocument: { uri } });
    await cleared;
  }

  private nextDiagnostics(uri: string): Promise<Diagnostic[]> {
    return new Promise<Diagnostic[]>((resolve) => {
      const waiting = this.diagnostics.get(uri) ?? [];
      waiting.push(resolve);
      this.diagnostics.set(uri, waiting);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request('shutdown', null);
    this.notify('exit', null);
    await exited;
  }

  private request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)));
      this.send({ jsonrpc: '2.0', id, method, params });
    });
  }

  private notify(method: string, params: unknown): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  private send(message: object): void {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.byteLength}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd === -1) return;
      const length = Number(
        /Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString())?.[1],
      );
      const start = headerEnd + 4;
      if (this.buffer.byteLength < start + length) return;
      const message = JSON.parse(this.buffer.subarray(start, start + length).toString('utf8')) as Message;
      this.buffer = this.buffer.subarray(start + length);
      this.handle(message);
    }
  }

  private handle(m: Message): void {
    if (m.method === undefined && typeof m.id === 'number') {
      this.pending.get(m.id)?.(m);
      this.pending.delete(m.id);
    } else if (m.method === 'textDocument/publishDiagnostics') {
      const { uri, diagnostics } = m.params as { uri: string; diagnostics: Diagnostic[] };
      const waiting = this.diagnostics.get(uri);
      waiting?.shift()?.(diagnostics);
    } else if (m.method === 'workspace/configuration' && m.id !== undefined) {
      // The server asks for sections (`yaml`, `http`, `[yaml]`, `editor`): answer from our settings.
      const items = (m.params as { items: { section?: string }[] }).items;
      this.send({
        jsonrpc: '2.0',
        id: m.id,
        result: items.map((i) => this.settings[i.section ?? ''] ?? null),
      });
    } else if (m.id !== undefined && m.method !== undefined) {
      this.send({ jsonrpc: '2.0', id: m.id, result: null }); // registerCapability and the like
    }
  }
}

/**
 * Node flags for the server process that make any network access fail loudly on stderr: the schema is a
 * local file, and its `$id` must never lead the server to fetch anything.
 */
const NO_NETWORK = ['--import', pathToFileURL(join(import.meta.dirname, 'no-network.mjs')).href];
