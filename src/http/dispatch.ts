import { RequestPipeline, type PipelineDeps } from './pipeline.js';
import { renderFailure } from './render-error.js';
import { echoedHeaders, parseWireRequest, renderResponse, type WireRequest, type WireResponse } from './wire.js';

export type DispatcherDeps = PipelineDeps;

/**
 * One request, end to end and without Fastify: the wire layer reads it, the request pipeline
 * handles it, the wire layer renders the outcome, and anything thrown on the way is rendered
 * by `renderFailure`, the one place a 500 is made.
 */
export class Dispatcher {
  private readonly pipeline: RequestPipeline;

  constructor(private readonly deps: DispatcherDeps) {
    this.pipeline = new RequestPipeline(deps);
  }

  async handle(wire: WireRequest): Promise<WireResponse> {
    const echoed = echoedHeaders(wire.headers);
    try {
      const request = parseWireRequest(wire);
      return renderResponse(request, await this.pipeline.run(request), echoed);
    } catch (err) {
      return renderFailure(err, this.deps.log, echoed);
    }
  }
}
