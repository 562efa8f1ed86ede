import http from 'node:http';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { Dispatcher, type DispatcherDeps } from './http/dispatch.js';
import { JSON_LIMIT_CODE, requestErrors } from './http/errors.js';
import { errorResponse, kindOfStatus, renderFailure } from './http/render-error.js';
import { UPLOAD_PATHS, type WireResponse } from './http/wire.js';
import { readBody } from './http/body.js';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './http/json-limits.js';
import { uiResponse, type UiAssets } from './http/ui-assets.js';
import { FerryError, methodNotAllowed, notFound, payloadTooLarge } from './kernel/errors.js';
import { CLUSTER_ECHO_PATH, FORWARDED_FOR_HEADER, answeredLocally, type RequestForwarder } from './http/forward.js';
import { echoedHeaders, header } from './http/wire.js';
import type { HaView } from './ha/coordinator.js';
import { haErrors } from './ha/errors.js';

/** With HA: the node's state, the forwarder, and what a standby does before answering a request itself. */
export interface StandbyServices {
  view: HaView;
  forwarder: RequestForwarder;
  /**
   * Called before a standby answers a request itself (`sys/metrics`, `sys/seal`, …): its cached
   * tokens and policies are reloaded only when it becomes active, and the active node may have
   * revoked or changed any of them since.
   */
  beforeLocalAnswer?: () => void;
}

/**
 * What the HTTP application needs: the services of the request pipeline, the request metrics,
 * the body limits and the listener's choices (`unauthenticatedMetricsAccess`).
 */
export interface AppDeps extends DispatcherDeps {
  /** Largest accepted request body, in bytes. */
  maxRequestSize: number;
  /** The listener's JSON limits; Vault's defaults when absent. */
  jsonLimits?: JsonLimits;
  /** The web UI's built assets, served at `/ui/` (config `ui = true`, and dev mode); no UI when absent. */
  uiAssets?: UiAssets;
  /** High availability: a standby forwards what it does not answer itself to the active node. */
  ha?: StandbyServices;
  /**
   * This app serves the cluster listener: its requests were forwarded by other nodes, which the
   * channel's TLS authenticated, so the client address they pass on is believed; they are
   * answered only while this node is active, and never forwarded again.
   */
  clusterChannel?: boolean;
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
    // No parameter limit of the router's own: a request target is bounded by Node's header limit.
    routerOptions: { ignoreDuplicateSlashes: true, maxParamLength: 1_000_000 },
    // A target the router cannot decode (`%ZZ`, `%C0%AF`) is answered as the dispatcher answers
    // one: Vault's error body, not Fastify's.
    frameworkErrors: (error, _request, reply) => {
      const err = (error as { code?: string }).code === 'FST_ERR_BAD_URL' ? requestErrors.badPercentEncoding() : requestErrors.rejected('invalid', error.message);
      void send(reply, errorResponse(err));
    },
  });

  // Vault parses JSON regardless of Content-Type (the Go client sends none), so every body
  // reaches the dispatcher as raw bytes and is interpreted there, in one place. Its size and
  // JSON limits are checked chunk by chunk while it arrives.
  const bodyLimits = { maxBytes: deps.maxRequestSize, json: deps.jsonLimits ?? DEFAULT_JSON_LIMITS };
  app.removeAllContentTypeParsers();
  // JSON, what clients send, gets an entry of its own (the same reader): Fastify caches the
  // parser it finds for a named type, but looks the catch-all up anew for every request.
  for (const type of ['application/json', '*']) {
    app.addContentTypeParser(type, (request, payload, done) => {
      const declared = request.headers['content-length'];
      readBody(payload, declared === undefined ? undefined : Number(declared), bodyLimits, done);
    });
  }

  const asIs = (payload: string) => payload;
  const send = (reply: import('fastify').FastifyReply, res: WireResponse) => {
    reply.code(res.status).headers(res.headers);
    if (typeof res.body !== 'string') return reply.send(Readable.from(res.body));
    if (res.body === '') return reply.send(undefined);
    // Sent as the string it is (Node writes it with the head, no Buffer made first); a
    // serializer, here the identity, keeps Fastify from adding a charset to the content type.
    return reply.serializer(asIs).send(res.body);
  };

  const handle = async (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply, upload?: Readable) => {
    // Without HA nothing is forwarded: no promise and turn for it. The request's duration,
    // where this reports one, is Fastify's own clock (`elapsedTime`): no second reading here.
    const standby = deps.ha?.view.enabled === true;
    const socketAddress = request.socket.remoteAddress ?? '';
    const wire = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: Buffer.isBuffer(request.body) ? request.body : undefined,
      remoteAddress: deps.clusterChannel ? (header(request.headers, FORWARDED_FOR_HEADER) ?? socketAddress) : socketAddress,
      upload,
    };
    const answered = standby ? await standbyAnswer(wire) : undefined;
    // A forwarded request is counted by the node that routes it; here only as unrouted.
    if (answered) deps.requests.requestAnswered(request.method, undefined, undefined, answered.status, reply.elapsedTime / 1000);
    const res = answered ?? (await dispatcher.handle(wire));
    // Paths only: query strings and bodies may carry secrets and never reach the log. The
    // entry is only built when it is written (debug is off unless asked for).
    if (deps.log.isLevelEnabled('debug')) {
      deps.log.debug(
        { method: request.method, path: request.url.split('?')[0], status: res.status, ms: Math.round(reply.elapsedTime) },
        'request',
      );
    }
    return send(reply, res);
  };

  /**
   * With HA, what this node does not answer itself: an unsealed standby forwards client requests
   * (but those it answers locally) to the active node; the cluster listener refuses forwarded
   * requests once this node is no longer active (the sender's next try finds the new one).
   * Undefined: the dispatcher answers here.
   */
  const standbyAnswer = async (wire: import('./http/wire.js').WireRequest): Promise<WireResponse | undefined> => {
    const ha = deps.ha;
    if (!ha?.view.enabled || ha.view.isActive()) return undefined;
    // Every answer, errors included, echoes the namespace header, as the dispatcher's do.
    const echoed = echoedHeaders(wire.headers);
    if (deps.clusterChannel) return errorResponse(haErrors.notActive(), echoed);
    if (deps.seal.status().sealed) return undefined;
    if (answeredLocally(wire.url)) {
      ha.beforeLocalAnswer?.();
      return undefined;
    }
    const leader = ha.view.leader();
    if (!leader || leader.nodeId === ha.view.nodeId()) return errorResponse(haErrors.noActiveNode(), echoed);
    try {
      return await ha.forwarder.forward(wire, leader.clusterAddr);
    } catch (err) {
      return errorResponse(err instanceof FerryError ? err : haErrors.forwardingFailed(), echoed);
    }
  };

  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v1/*', handler: (request, reply) => handle(request, reply) });
  if (deps.clusterChannel) {
    // A standby's echo: proves the channel (and so the key) and reads this node's clock.
    app.get(CLUSTER_ECHO_PATH, (_request, reply) => send(reply, { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ time: Date.now() }) }));
  }

  // The web UI: static files, answered from memory, under a strict Content-Security-Policy
  // (`http/ui-assets.ts`). Where Vault serves its UI; `/ui` goes to `/ui/`, as in Vault.
  const ui = deps.uiAssets;
  if (ui) {
    app.route({
      method: ['GET', 'HEAD'],
      url: '/ui',
      handler: (_request, reply) => reply.code(307).header('location', '/ui/').header('cache-control', 'no-store').send(),
    });
    app.route({
      method: ['GET', 'HEAD'],
      url: '/ui/*',
      handler: (request, reply) => {
        const res = uiResponse(ui, request.url);
        return reply.code(res.status).headers(res.headers).send(res.body);
      },
    });
  }

  // What Fastify refuses before the dispatcher sees it is counted too, as matching no route.
  const refuse = (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply, res: WireResponse) => {
    deps.requests.requestAnswered(request.method, undefined, undefined, res.status, reply.elapsedTime / 1000);
    return send(reply, res);
  };

  app.setNotFoundHandler((request, reply) => {
    const known = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const err = known.includes(request.method) ? notFound() : methodNotAllowed();
    return refuse(request, reply, errorResponse(err));
  });

  app.setErrorHandler((error: Error & { code?: string; statusCode?: number }, request, reply) => {
    // Fastify closes the connection after any body-parser error; a body over a JSON limit is
    // instead read to its end and dropped (`readBody`), so the connection can stay open.
    if (error instanceof FerryError && error.code === JSON_LIMIT_CODE) reply.removeHeader('connection');
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return refuse(request, reply, errorResponse(payloadTooLarge()));
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return refuse(request, reply, errorResponse(requestErrors.rejected(kindOfStatus(error.statusCode), error.message)));
    }
    return refuse(request, reply, renderFailure(error, deps.log));
  });

  // Upload paths (snapshot restores): the body reaches the handler unread, after the token and
  // ACL checks, and is not held to the body limit; a refused request's body is never stored.
  // Registered last and not awaited: loading it now would settle the routes above before the
  // error handlers exist (they would get Fastify's defaults).
  app.register(async (uploads) => {
    uploads.removeAllContentTypeParsers();
    uploads.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    for (const path of UPLOAD_PATHS) {
      uploads.route({
        method: ['POST', 'PUT'],
        url: `/v1/${path}`,
        handler: (request, reply) => handle(request, reply, request.body instanceof Readable ? request.body : undefined),
      });
    }
  });

  return app;
}
