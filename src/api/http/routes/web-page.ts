import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { HelmetOptions } from 'helmet';
import type { FastifyPluginAsync } from 'fastify';
import { acceptList, type MediaRole } from '../../../shared/media/media-formats.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** a route's own helmet options, merged over the API's (see security-headers.ts) */
    helmet?: HelmetOptions;
  }
}

/** The files of the "try it" page; `public/` sits at the same depth from src/ and from dist/. */
export const WEB_PAGE_ROOT = fileURLToPath(new URL('../../../../public/', import.meta.url));

/**
 * The page's Content-Security-Policy: helmet's defaults (its own scripts and
 * styles only, nothing inline), as the API's other replies, plus `blob:` media:
 * the video route needs the API key, which a `<video src>` cannot send, so the
 * page fetches the MP4 and plays it from an object URL. (A route's helmet
 * options replace the global ones, so the global policy's choice not to
 * upgrade plain-http requests is repeated.)
 */
const PAGE_HELMET: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: true, directives: { upgradeInsecureRequests: null, mediaSrc: ["'self'", 'blob:'] } },
};

/** index.html with its file pickers' `accept="{{accept:<role>}}"` filled in from the media formats. */
export async function renderIndexPage(): Promise<string> {
  const template = await readFile(path.join(WEB_PAGE_ROOT, 'index.html'), 'utf8');
  return template.replace(/\{\{accept:(image|audio|logo)\}\}/g, (_match, role: MediaRole) => acceptList(role));
}

/**
 * The try-it page at `/` (index.html, app.js, app.css): public, like /docs,
 * and left out of the OpenAPI document. The page calls the API with the key
 * its user types, like any other client.
 */
export const webPageRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true, helmet: PAGE_HELMET };
  });
  const page = await renderIndexPage();
  for (const url of ['/', '/index.html']) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  }
  // one route per file found at start-up (no wildcard), so unknown paths keep the API's problem+json 404
  await app.register(fastifyStatic, {
    root: WEB_PAGE_ROOT,
    prefix: '/',
    wildcard: false,
    decorateReply: false,
    schemaHide: true,
    globIgnore: ['index.html'],
  });
};
