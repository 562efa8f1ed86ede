import type { RequestObserver } from '../kernel/services.js';
import { RequestPipeline, type PipelineDeps } from './pipeline.js';
import { renderFailure } from './render-error.js';
import { echoedHeaders, parseWireRequest, renderResponse, type ParsedRequest, type WireRequest, type WireResponse } from './wire.js';

export interface DispatcherDeps extends PipelineDeps {
  /** Told of every answered request, with its route, status and duration (the request metrics). */
  requests: RequestObserver;
}

/**
 * One request, end to end and without Fastify: the wire layer reads it, the request pipeline
 * handles it, the wire layer renders the outcome, and anything thrown on the way is rendered
 * by `renderFailure`, the one place a 500 is made. Every outcome is reported to the request
 * metrics.
 */
export class Dispatcher {
  private readonly pipeline: RequestPipeline;

  constructor(private readonly deps: DispatcherDeps) {
    this.pipeline = new RequestPipeline(deps);
  }

  async handle(wire: WireRequest): Promise<WireResponse> {
    const started = performance.now();
    const echoed = echoedHeaders(wire.headers);
    let request: ParsedRequest | undefined;
    let response: WireResponse;
    try {
      request = parseWireRequest(wire);
      response = renderResponse(request, await this.pipeline.run(request), echoed);
    } catch (err) {
      response = renderFailure(err, this.deps.log, echoed);
    }
    const seconds = (performance.now() - started) / 1000;
    this.deps.requests.requestAnswered(request?.method ?? wire.method, request?.mount, request?.spec, response.status, seconds);
    return response;
  }
}
