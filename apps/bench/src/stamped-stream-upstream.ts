/**
 * An OpenAI-compatible upstream for the streamed-reply benchmark: each reply
 * is an event stream of `events` pieces of 1–4 characters, `intervalMs`
 * apart. The first sentence ends with `。` in event 4; a segmenter can only
 * close it once it has seen the next character (a closing quote or bracket
 * would belong to it), so event 5 is the one that completes it. The upstream
 * runs in the client's process and records, on the monotonic clock, when it
 * wrote that event of each reply (`completions`); event 4 also carries the
 * reply's number (`第<n>句`), so a client matches its segment to the reply.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface StampedStreamUpstream {
  readonly origin: string;
  /** Events written so far (all replies). */
  readonly eventsWritten: number;
  /** For reply n (from 0), when the event that completes its first sentence was written (process.hrtime ns). */
  readonly completions: bigint[];
  close(): Promise<void>;
}

/** The reply number a first segment names; undefined if it names none. */
export function replyOf(segment: string): number | undefined {
  const match = /第(\d+)句。/.exec(segment);
  return match === null ? undefined : Number(match[1]);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const chunk = (delta: object, finish: string | null): string =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: 0, model: "gpt-4o-mini", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

export async function startStampedStreamUpstream({
  events,
  intervalMs,
}: {
  events: number;
  intervalMs: number;
}): Promise<StampedStreamUpstream> {
  let eventsWritten = 0;
  const completions: bigint[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      void (async () => {
        const reply = completions.length;
        completions.push(0n);
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(chunk({ role: "assistant", content: "" }, null));
        // Pieces as a model writes them: an opening, the end of the first sentence (with the reply's number), then
        // the rest of the reply (more sentences), one piece per event.
        const opening = ["你好", "，这", "是", "回复"];
        const rest = Array.from({ length: Math.max(0, events - opening.length - 1) }, (_, i) =>
          i % 4 === 3 ? "句。" : "后面",
        );
        for (let i = 0; i < events && !res.destroyed; i++) {
          if (i > 0 && intervalMs > 0) await sleep(intervalMs);
          const content =
            i < opening.length ? opening[i]! : i === opening.length ? `第${reply}句。` : rest[i - opening.length - 1]!;
          if (i === opening.length + 1) completions[reply] = process.hrtime.bigint();
          res.write(chunk({ content }, null));
          eventsWritten++;
        }
        res.write(chunk({}, "stop"));
        res.end("data: [DONE]\n\n");
      })();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get eventsWritten() {
      return eventsWritten;
    },
    completions,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
