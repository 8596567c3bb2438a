import { Code, ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import { toConnectError } from "./errors.js";
import { protocolOf } from "./interceptors.js";
import { codeName } from "./rpc-log.js";

/**
 * One finished call, for metrics: the RPC (`package.Service/Method`, a fixed
 * set), its protocol (grpc, grpc-web, connect), its status code as Connect
 * spells it (ok, not_found…) and how long it took, to the end of a streamed
 * response. Nothing that identifies a client, a session or a credential.
 */
export interface CallRecord {
  readonly method: string;
  readonly protocol: string;
  readonly code: string;
  readonly seconds: number;
}

/** Told about every finished call; must be cheap, and one that throws is ignored. */
export type CallObserver = (call: CallRecord) => void;

/** Tells `observe` about one finished call; a metric never fails a call, so what it throws is dropped. */
export function notifyCall(observe: CallObserver, call: CallRecord): void {
  try {
    observe(call);
  } catch {
    // ignored, as documented on CallObserver
  }
}

/**
 * Reports each RPC to `observe` once it has ended: a unary call when its
 * answer (or error) is ready, a streaming one when its last message went out
 * or it failed mid-stream. Errors are named by the server's own table
 * ({@link toConnectError}), so the code is the one the client receives.
 */
export function callObserverInterceptor(observe: CallObserver): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const method = `${req.service.typeName}/${req.method.name}`;
    const protocol = protocolOf(req.header);
    let reported = false;
    const report = (code: Code | "ok"): void => {
      if (reported) return;
      reported = true;
      notifyCall(observe, {
        method,
        protocol,
        code: code === "ok" ? "ok" : codeName(code),
        seconds: (performance.now() - started) / 1000,
      });
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (error) {
      report(statusOf(error));
      throw error;
    }
    if (!res.stream) {
      report("ok");
      return res;
    }
    const streamed: StreamResponse = { ...res, message: observed(res.message, report) };
    return streamed as typeof res;
  };
}

function statusOf(error: unknown): Code {
  return error instanceof ConnectError ? error.code : toConnectError(error).code;
}

/** The response messages as sent, reporting the call once they end: ok, the error's code, or cancelled when left early. */
async function* observed<T>(
  messages: AsyncIterable<T>,
  report: (code: Code | "ok") => void,
): AsyncGenerator<T, void, undefined> {
  let ended = false;
  try {
    for await (const message of messages) yield message;
    ended = true;
    report("ok");
  } catch (error) {
    ended = true;
    report(statusOf(error));
    throw error;
  } finally {
    // The client went away before the end: Connect cancels the stream.
    if (!ended) report(Code.Canceled);
  }
}
