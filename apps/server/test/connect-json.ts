/**
 * Unary calls in the Connect protocol's JSON form over fetch (what a browser
 * or curl sends), for suites that talk to several programs at once and need
 * no generated client: the reply's HTTP status and JSON body as they came.
 */
export interface ConnectReply {
  readonly status: number;
  /** Read loosely, field by field, by the tests. */
  readonly body: any;
}

/** POST `{base}/{service}/{method}` with a JSON body; `timeoutMs` bounds the whole call. */
export async function connectCall({
  base,
  method,
  body,
  service = "muvtuber.chatbot.v2.ChatbotService",
  timeoutMs = 30_000,
}: {
  base: string;
  method: string;
  body: unknown;
  service?: string;
  timeoutMs?: number;
}): Promise<ConnectReply> {
  const res = await fetch(`${base}/${service}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", "connect-protocol-version": "1" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : JSON.parse(text) };
}

/** `grpc.health.v1.Health/Check` for the whole server: "SERVING", "NOT_SERVING", … */
export async function healthOf(base: string): Promise<string> {
  const reply = await connectCall({
    base,
    service: "grpc.health.v1.Health",
    method: "Check",
    body: {},
    timeoutMs: 5_000,
  });
  return String(reply.body.status);
}
