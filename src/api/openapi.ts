// The OpenAPI document's frame (@fastify/swagger fills in the paths from the routes' schemas): info, servers,
// the bearer scheme, tags, and the public pages that are not API routes (the dashboard, this document).
import type { SwaggerOptions } from '@fastify/swagger';
import type { RouteSpec } from './routes.js';

/** A route anyone may call: no bearer token. */
export const PUBLIC = { tags: ['public'], security: [] } as const;

const page = (operationId: string, summary: string, type: string, description: string) => ({
  get: {
    ...PUBLIC,
    operationId,
    summary,
    responses: {
      200: {
        description,
        content: { [type]: { schema: { type: type === 'text/html' ? 'string' : 'object' } } },
      },
      429: {
        description: 'RATE_LIMITED',
        headers: { 'Retry-After': { schema: { type: 'integer', minimum: 0 } } },
        content: { 'application/json': { schema: { type: 'object' } } },
      },
    },
  },
});

/** Served by @fastify/swagger-ui and the dashboard, whose routes hide themselves from the document. */
const PAGES = {
  '/': page(
    'dashboard',
    'The dashboard (it calls /v1 with a token the user enters)',
    'text/html',
    'the page',
  ),
  '/docs/json': page('openApiDocument', 'This OpenAPI document', 'application/json', 'the document'),
};

const TAGS: Record<string, string> = {
  overview: 'The account at a glance',
  groups: 'Groups and their budgets',
  members: 'Members, their budgets and history',
  settings: "The account's settings",
  users: 'Signup',
  usage: 'Recording usage against the budgets',
  reservations: 'Holding credits before the cost is known',
  requests: 'Requests for more credits and their approval',
  cycle: 'Budget cycles',
  public: 'Pages and checks that need no token',
};

export function openApiDocument(routes: readonly RouteSpec[]): SwaggerOptions {
  const tags = [...new Set(routes.map((r) => r.tag ?? r.url.split('/')[2]!)), 'public'];
  return {
    openapi: {
      info: {
        title: 'credits runtime API',
        version: '1',
        description: 'Usage, reservations, requests and budgets of one account; see docs/api.md.',
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [{ url: '/', description: 'the server that serves this document' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
      tags: tags.map((name) => ({ name, description: TAGS[name] ?? `Routes under /v1/${name}` })),
    },
    transformObject: (doc) => {
      const spec = (doc as { openapiObject: { paths?: Record<string, unknown> } }).openapiObject;
      spec.paths = { ...spec.paths, ...PAGES };
      return spec as never;
    },
  };
}
