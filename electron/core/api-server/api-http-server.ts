// The HTTP server of the local API (plain Node http): Host and Origin checks, CORS, the API
// key, the body limit, then the route. A client that disconnects aborts its request, which
// stops its generation at once.

import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { QuantaError } from "../../contract/errors.js";
import type { ApiServerSettings } from "../../contract/types.js";
import { checkApiKey } from "./auth.js";
import type { CompletionRunner } from "./completion-runner.js";
import type { EndpointContext } from "./endpoint.js";
import { ApiError, errorBody, toApiError, type ApiDialect } from "./errors.js";
import { isAllowedHost, isWildcardHost, serverNames, type ServerNames } from "../net/host-check.js";
import { isAllowedOrigin } from "./cors.js";
import { readJsonBody, sendJson } from "./http-io.js";
import type { RequestLog } from "./request-log.js";
import { dialectFor, findRoute } from "./routes.js";

export interface RunningApiServer {
  port: number;
  host: string;
  baseUrl: string;
  close(): Promise<void>;
}

function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** The address a client on this machine would use: loopback for a bind to every interface. */
export function clientBaseUrl(host: string, port: number): string {
  const reachable = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${formatHost(reachable)}:${port}/v1`;
}

function corsHeaders(origin: string | undefined, settings: ApiServerSettings): http.OutgoingHttpHeaders {
  if (origin === undefined || !isAllowedOrigin(origin, settings.cors)) return {};
  return {
    "Access-Control-Allow-Origin": origin,
    Vary: "Origin",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers":
      "Authorization, Content-Type, X-Api-Key, Anthropic-Version, Anthropic-Beta, X-Stainless-Os, X-Stainless-Lang, X-Stainless-Package-Version, X-Stainless-Runtime, X-Stainless-Runtime-Version, X-Stainless-Arch, X-Stainless-Retry-Count, X-Stainless-Timeout, X-Quanta-Wait",
    "Access-Control-Max-Age": "600",
  };
}

export function startApiHttpServer(options: {
  settings: () => ApiServerSettings;
  runner: CompletionRunner;
  log: RequestLog;
}): Promise<RunningApiServer> {
  const settings = options.settings();
  /** The names this listener answers to (the shared Host rule of core/net/host-check.ts). */
  let names: ServerNames = serverNames(settings.host, settings.port);

  const server = http.createServer((request, response) => {
    void serve(request, response);
  });
  // Long generations: no idle timeout on the request; headers still have to arrive promptly.
  server.requestTimeout = 0;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  async function serve(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const current = options.settings();
    const url = new URL(request.url ?? "/", "http://api.invalid");
    const pathname = url.pathname;
    let dialect: ApiDialect = dialectFor(pathname);
    const origin = typeof request.headers.origin === "string" ? request.headers.origin : undefined;
    const headers = corsHeaders(origin, current);
    const startedAt = performance.now();
    const entry = options.log.start({
      method: request.method ?? "?",
      endpoint: pathname.slice(0, 200),
      queuedBehind: options.runner.waiting,
    });
    const abort = new AbortController();
    response.on("close", () => {
      if (!response.writableFinished) abort.abort();
    });
    let status = 200;
    try {
      if (!isAllowedHost(request.headers.host, names)) {
        throw new ApiError(
          403,
          "This Host header is not accepted (the API answers only requests addressed to it, which keeps other web sites out).",
          null,
          "forbidden_host",
        );
      }
      // A page on another site may call the API only when CORS is on and lists its origin.
      if (origin !== undefined && Object.keys(headers).length === 0) {
        throw new ApiError(
          403,
          `Requests from web pages at ${origin.slice(0, 200)} are not allowed. Turn CORS on and add this origin in Quanta's Server view.`,
          null,
          "forbidden_origin",
        );
      }
      if (request.method === "OPTIONS") {
        response.writeHead(204, headers).end();
        status = 204;
        return;
      }
      const route = findRoute(pathname);
      if (!route)
        throw new ApiError(
          404,
          `There is no route ${request.method ?? ""} ${pathname.slice(0, 200)}. The API serves /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings and /v1/messages.`,
          null,
          "unknown_route",
        );
      dialect = route.dialect;
      if (request.method !== route.method) {
        response.setHeader("Allow", route.method);
        throw new ApiError(405, `${pathname} takes ${route.method} requests.`, null, "method_not_allowed");
      }
      checkApiKey(request, current);
      const body = route.method === "POST" ? await readJsonBody(request) : undefined;
      const wait = request.headers["x-quanta-wait"];
      const context: EndpointContext = {
        request,
        response,
        body,
        runner: options.runner,
        entry,
        signal: abort.signal,
        client: request.socket.remoteAddress ?? "unknown",
        headers,
        noWait: typeof wait === "string" && wait.toLowerCase() === "false",
        record: (outcome) => Object.assign(entry, outcome),
      };
      await route.handle(context);
      if (abort.signal.aborted) status = 499;
    } catch (error) {
      const apiError =
        abort.signal.aborted && !(error instanceof ApiError) ? new ApiError(499, "The client closed the connection.") : toApiError(error);
      status = apiError.status;
      entry.error = apiError.message;
      if (!response.headersSent && !response.destroyed) {
        sendJson(response, apiError.status, errorBody(dialect, apiError), {
          ...headers,
          ...(apiError.status === 503 || apiError.status === 429 ? { "Retry-After": "2" } : {}),
          ...(apiError.status === 413 ? { Connection: "close" } : {}),
        });
      } else if (!response.writableEnded) {
        response.end();
      }
    } finally {
      options.log.finish(entry, { status }, startedAt);
    }
  }

  return new Promise<RunningApiServer>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new QuantaError(
            "address_in_use",
            `Port ${settings.port} on ${settings.host} is already in use by another program. Choose another port in the Server view.`,
          ),
        );
      } else if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") {
        reject(new QuantaError("invalid_request", `This machine has no address ${settings.host} to listen on.`));
      } else if (error.code === "EACCES") {
        reject(
          new QuantaError(
            "invalid_request",
            `Listening on port ${settings.port} needs privileges Quanta does not have; choose a port above 1024.`,
          ),
        );
      } else {
        reject(new QuantaError("internal", `The API server could not start: ${error.message}`));
      }
    });
    server.listen(settings.port, settings.host, () => {
      const boundPort = (server.address() as AddressInfo).port;
      const interfaces = isWildcardHost(settings.host)
        ? Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((address) => address.address))
        : [];
      names = serverNames(settings.host, boundPort, interfaces);
      resolve({
        port: boundPort,
        host: settings.host,
        baseUrl: clientBaseUrl(settings.host, boundPort),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
