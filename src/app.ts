import http from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { Dispatcher, type DispatcherDeps } from './http/dispatch.js';
import { requestErrors } from './http/errors.js';
import { errorResponse, kindOfStatus, renderFailure } from './http/render-error.js';
import type { WireResponse } from './http/wire.js';
import { methodNotAllowed, notFound, payloadTooLarge } from './kernel/errors.js';

/** What the HTTP application needs: the services of the request pipeline and the body limit. */
export interface AppDeps extends DispatcherDeps {
  /** Largest accepted request body, in bytes. */
  maxRequestSize: number;
}

/**
 * Builds the HTTP application around the server's services. It never listens: `server.ts`
 * attaches it to sockets (with the LIST translation) and tests use `app.inject`.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const dispatcher = new Dispatcher(deps);
  const app = Fastify({
    logger: false,
    bodyLimit: deps.maxRequestSize,
    exposeHeadRoutes: false,
    // Node's own server; `server.ts` feeds it connections itself.
    serverFactory: (handler) => http.createServer(handler),
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 10_000 },
  });

  // Vault parses JSON regardless of Content-Type (the Go client sends none), so every body
  // reaches the dispatcher as raw bytes and is interpreted there, in one place.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const send = (reply: import('fastify').FastifyReply, res: WireResponse) =>
    reply.code(res.status).headers(res.headers).send(res.body === '' ? undefined : Buffer.from(res.body));

  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    url: '/v1/*',
    handler: async (request, reply) => {
      const started = performance.now();
      const res = await dispatcher.handle({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.isBuffer(request.body) ? request.body : undefined,
        remoteAddress: request.socket.remoteAddress ?? '',
      });
      // Paths only: query strings and bodies may carry secrets and never reach the log.
      deps.log.debug(
        { method: request.method, path: request.url.split('?')[0], status: res.status, ms: Math.round(performance.now() - started) },
        'request',
      );
      return send(reply, res);
    },
  });

  app.setNotFoundHandler((request, reply) => {
    const known = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const err = known.includes(request.method) ? notFound() : methodNotAllowed();
    return send(reply, errorResponse(err));
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(reply, errorResponse(payloadTooLarge()));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return send(reply, errorResponse(requestErrors.rejected(kindOfStatus(error.statusCode), error.message)));
    }
    return send(reply, renderFailure(error, deps.log));
  });

  return app;
}
