/**
 * fast-check generators of what a stranger may send the program: configs
 * (wrong types, huge strings, deep nesting, special tokens, non-ASCII and NUL
 * in credentials), prompts (huge, long runs without spaces, CJK, special
 * tokens), session ids, HTTP bodies (invalid UTF-8, NUL, malformed chunked
 * encoding) and raw gRPC / Connect bodies. Every action prints as a short
 * summary, so a failing seed's report stays readable with megabyte inputs.
 */
import fc from "fast-check";
import { grpcFrame, protoBytesField, type Via } from "./hostile-clients.js";

export const SPECIAL_TOKENS = [
  "<|endoftext|>",
  "<|im_start|>",
  "<|im_end|>",
  "<|im_sep|>",
  "<|fim_prefix|>",
  "<|fim_middle|>",
  "<|fim_suffix|>",
  "<|endofprompt|>",
];

/** Units repeated into long runs: no spaces (the tokenizer's worst case), CJK, emoji, base64, NUL, bidi controls, lone surrogates. */
const RUN_UNITS = [
  "x",
  "a",
  "=",
  "0",
  "漢",
  "字仮",
  "あ",
  "😀",
  "é",
  "\u0000",
  "\u202e",
  "\n",
  "ZXhhbXBsZSBiYXNlNjQ",
  "<|endoftext|>",
  "\ud800",
  "\u00a0",
  " ",
];

/** How long a run is, in characters: mostly short, sometimes around and past any sensible limit (~1 MB). */
const runLength = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 300, max: 30_000 }) },
  { weight: 2, arbitrary: fc.integer({ min: 30_000, max: 200_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 200_000, max: 1_100_000 }) },
);

const run = fc
  .record({ unit: fc.constantFrom(...RUN_UNITS), length: runLength })
  .map(({ unit, length }) => unit.repeat(Math.max(1, Math.ceil(length / unit.length))));

/** Free text: prompts, initial prompts, model names, session ids. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 200 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL_TOKENS).map((token) => `say ${token} please`) },
  { weight: 3, arbitrary: run },
  {
    weight: 2,
    arbitrary: fc
      .array(fc.oneof(run, fc.string(), fc.constantFrom(...SPECIAL_TOKENS)), { minLength: 1, maxLength: 6 })
      .map((parts) => parts.join("")),
  },
);

/** A JSON text nested `depth` deep around `inner` (built as text: JSON.stringify would overflow). */
function nestedJson(depth: number, kind: "array" | "object", inner: string): string {
  return kind === "array"
    ? `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}${inner}${"}".repeat(depth)}`;
}

const deepJson = fc
  .record({
    depth: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1_000, max: 120_000 })),
    kind: fc.constantFrom("array" as const, "object" as const),
  })
  .map(({ depth, kind }) => nestedJson(depth, kind, "3"));

/** A JSON value as text, of any type: what `"field": <here>` holds. */
const anyJsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  { weight: 2, arbitrary: hostileText.map((t) => JSON.stringify(t)) },
  { weight: 1, arbitrary: deepJson },
  {
    weight: 1,
    arbitrary: fc.constantFrom("null", "true", "-0", "1e308", "-1", "3.5", "[]", "{}", '"3"', "[3]", '{"$ref":"#"}'),
  },
);

/**
 * A credential, marked: every one starts `sk-test-fz<10 chars>`, so a reply or
 * log line that contains that prefix has echoed a credential. The tail adds
 * what an HTTP header cannot carry (NUL, non-ASCII, whitespace, megabytes).
 */
export const markedCredential: fc.Arbitrary<{ value: string; marker: string }> = fc
  .record({
    id: fc.stringMatching(/^[a-z0-9]{10}$/),
    tail: fc.oneof(
      fc.constant(""),
      fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/),
      fc.constantFrom("\u0000x", "ключ", " ", "\n", "\t", "é", "<|endoftext|>", "\r\nx-injected: 1"),
      fc.string({ unit: "binary", maxLength: 30 }),
      run,
    ),
  })
  .map(({ id, tail }) => ({ marker: `sk-test-fz${id}`, value: `sk-test-fz${id}${tail}` }));

/** Credentials with no marker to look for (too short or blank to be told apart from other text). */
const blankCredential = fc.constantFrom("", " ", "\t", "\u0000", "\u3000");

export interface HostileConfig {
  readonly text: string;
  /** Marked credentials inside it. */
  readonly markers: readonly string[];
}

/** A NewSession config (or a /renew body): mostly objects with fields of any type, sometimes no JSON at all. */
export function hostileConfig({ baseUrls }: { baseUrls: readonly string[] }): fc.Arbitrary<HostileConfig> {
  const version = fc.oneof({ weight: 6, arbitrary: fc.constantFrom("1", "3") }, { weight: 3, arbitrary: anyJsonText });
  const credential = fc.oneof(
    { weight: 5, arbitrary: markedCredential.map((c) => ({ text: JSON.stringify(c.value), markers: [c.marker] })) },
    { weight: 1, arbitrary: blankCredential.map((c) => ({ text: JSON.stringify(c), markers: [] as string[] })) },
    { weight: 1, arbitrary: anyJsonText.map((text) => ({ text, markers: [] as string[] })) },
    {
      weight: 1,
      arbitrary: fc.array(markedCredential, { minLength: 1, maxLength: 3 }).map((list) => ({
        text: JSON.stringify(list.map((c) => c.value)),
        markers: list.map((c) => c.marker),
      })),
    },
  );
  const optional = (value: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> =>
    fc.option(value, { nil: undefined, freq: 3 });
  const object = fc
    .record({
      version: fc.option(version, { nil: undefined, freq: 8 }),
      field: fc.constantFrom("api_key", "access_token", "api_keys", "apiKey"),
      credential: fc.option(credential, { nil: undefined, freq: 4 }),
      model: optional(fc.oneof(fc.constantFrom('"gpt-4o-mini"', '""'), anyJsonText)),
      base_url: optional(
        fc.oneof(
          fc.constantFrom(...baseUrls.map((u) => JSON.stringify(u))),
          fc.constantFrom(
            '"not a url"',
            '""',
            '"http://127.0.0.1:1/v1"',
            '"ftp://127.0.0.1/"',
            '"javascript:alert(1)"',
            '"http://[::1"',
          ),
          anyJsonText,
        ),
      ),
      temperature: optional(anyJsonText),
      max_tokens: optional(anyJsonText),
      filter: optional(anyJsonText),
      extra: optional(anyJsonText),
    })
    .map((c): HostileConfig => {
      const fields: string[] = [];
      if (c.version !== undefined) fields.push(`"version":${c.version}`);
      if (c.credential !== undefined) fields.push(`${JSON.stringify(c.field)}:${c.credential.text}`);
      for (const key of ["model", "base_url", "temperature", "max_tokens", "filter", "extra"] as const) {
        if (c[key] !== undefined) fields.push(`${JSON.stringify(key)}:${c[key]}`);
      }
      return { text: `{${fields.join(",")}}`, markers: c.credential?.markers ?? [] };
    });
  return fc.oneof(
    { weight: 8, arbitrary: object },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          hostileText,
          deepJson,
          fc.constantFrom("", "null", "[]", "3", '{"version":3', '{"version":3,}', "{\u0000}"),
        )
        .map((text) => ({ text, markers: [] })),
    },
  );
}

/** A session id: one the program handed out (`pick`, modulo the live ones), or any text. */
export type SessionRef = { readonly pick: number } | { readonly literal: string };
const sessionRef: fc.Arbitrary<SessionRef> = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ pick })) },
  { weight: 2, arbitrary: hostileText.map((literal) => ({ literal })) },
  { weight: 1, arbitrary: fc.uuid().map((literal) => ({ literal })) },
);

const via = fc.constantFrom<Via>("grpc", "connect-json", "connect-binary");

/** Bytes that are not UTF-8: lone continuation bytes, overlongs, surrogates, truncated sequences. */
const invalidUtf8 = fc
  .constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe6, 0xbc], [0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80])
  .map((b) => Uint8Array.from(b));

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};

/** A body for POST /ask or /renew: JSON of the right shape with hostile values, wrong shapes, or bytes that are not JSON. */
function httpBody(fields: fc.Arbitrary<string>): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: fields.map(utf8) },
    { weight: 1, arbitrary: anyJsonText.map(utf8) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.string({ maxLength: 20 }), invalidUtf8, fc.string({ maxLength: 20 }))
        .map(([a, bad, b]) => concat(utf8(`{"prompt":"${a}`), bad, utf8(`${b}"}`))),
    },
    {
      weight: 1,
      arbitrary: fc.string({ maxLength: 40 }).map((a) => concat(utf8(`{"prompt":"${a}`), Uint8Array.of(0), utf8('"}'))),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 1_048_000, max: 1_200_000 }).map((n) => utf8(`{"prompt":"${"x".repeat(n)}"}`)),
    },
  );
}

const methodPaths = fc.constantFrom(
  "/muvtuber.chatbot.v2.ChatbotService/NewSession",
  "/muvtuber.chatbot.v2.ChatbotService/Chat",
  "/muvtuber.chatbot.v2.ChatbotService/DeleteSession",
);

/** Protobuf bodies no protobuf library would write: invalid UTF-8 in string fields, unknown fields, truncated varints. */
const rawProto: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.string({ maxLength: 20 }), invalidUtf8)
    .map(([field, text, bad]) => protoBytesField(field, concat(utf8(text), bad))),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.string({ maxLength: 20 }))
    .map(([field, text]) => protoBytesField(field, concat(utf8(text), Uint8Array.of(0)))),
  fc.uint8Array({ maxLength: 200 }),
  fc.constantFrom(
    Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f),
    Uint8Array.of(0x0a),
    Uint8Array.of(0xff, 0xff, 0xff),
    Uint8Array.of(0x7a, 0x00),
  ),
);

/** A raw gRPC request body: well-framed hostile protobuf, or frames that lie about their length or are cut. */
const rawGrpcBody: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: rawProto.map((m) => grpcFrame(m)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(rawProto, fc.integer({ min: 0, max: 0xffffffff }))
      .map(([m, length]) => grpcFrame(m, { length })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4 }) },
  { weight: 1, arbitrary: fc.tuple(rawProto, rawProto).map(([a, b]) => concat(grpcFrame(a), grpcFrame(b))) },
);

/** Raw HTTP/1.1 requests to the HTTP API: malformed chunked encoding, lying lengths, broken request lines. */
const rawHttpRequest: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc
    .tuple(
      fc.constantFrom("/ask", "/renew"),
      fc.string({ maxLength: 10 }),
      fc.constantFrom("zz", "-1", "fffffffffffffffff", "5;x=\u0000", "", "0x5"),
    )
    .map(([path, text, size]) =>
      utf8(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `5\r\n{"pro\r\n${size}\r\nmpt":"${text}"}\r\n0\r\n\r\n`,
      ),
    ),
  fc
    .tuple(fc.constantFrom("/ask", "/renew"), fc.integer({ min: 20, max: 10_000_000 }))
    .map(([path, length]) =>
      utf8(
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{"prompt":"cut`,
      ),
    ),
  fc
    .constantFrom(
      "POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bad: a\u0000b\r\n\r\n",
      "POST /ask HTTP/9.9\r\n\r\n",
      "\u0000\u0001\u0002\r\n\r\n",
    )
    .map(utf8),
  fc.uint8Array({ minLength: 1, maxLength: 200 }),
);

export type HostileAction =
  | {
      readonly kind: "newSession";
      readonly via: Via;
      readonly config: HostileConfig;
      readonly initialPrompt: string | undefined;
    }
  | { readonly kind: "chat"; readonly via: Via; readonly session: SessionRef; readonly prompt: string }
  | { readonly kind: "deleteSession"; readonly via: Via; readonly session: SessionRef }
  | { readonly kind: "health"; readonly service: string }
  | {
      readonly kind: "ask" | "renew";
      readonly body: Uint8Array;
      readonly contentType: string;
      readonly markers: readonly string[];
    }
  | { readonly kind: "rawHttp"; readonly bytes: Uint8Array }
  | { readonly kind: "rawGrpc"; readonly path: string; readonly body: Uint8Array }
  | { readonly kind: "rawConnect"; readonly path: string; readonly contentType: string; readonly body: Uint8Array };

/** Short, printable: strings and byte arrays longer than 60 are cut, with their length. */
function summarize(value: unknown): unknown {
  if (typeof value === "string") return value.length <= 60 ? value : `${value.slice(0, 40)}…(${value.length} chars)`;
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value.subarray(0, 40)).toString("latin1");
    return value.length <= 40
      ? `bytes:${JSON.stringify(text)}`
      : `bytes:${JSON.stringify(text)}…(${value.length} bytes)`;
  }
  if (Array.isArray(value)) return value.map(summarize);
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, summarize(v)]));
  return value;
}

function printable<T extends object>(action: T): T {
  return Object.assign(action, { [fc.toStringMethod]: () => JSON.stringify(summarize(action)) });
}

export function hostileAction({ baseUrls }: { baseUrls: readonly string[] }): fc.Arbitrary<HostileAction> {
  const config = hostileConfig({ baseUrls });
  const askFields = fc.oneof(
    { weight: 4, arbitrary: hostileText.map((prompt) => JSON.stringify({ prompt })) },
    { weight: 1, arbitrary: anyJsonText.map((prompt) => `{"prompt":${prompt}}`) },
  );
  const renew = config.chain((c) => httpBody(fc.constant(c.text)).map((body) => ({ body, markers: c.markers })));
  const action: fc.Arbitrary<HostileAction> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("newSession" as const),
        via,
        config,
        initialPrompt: fc.option(hostileText, { nil: undefined }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({ kind: fc.constant("chat" as const), via, session: sessionRef, prompt: hostileText }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("deleteSession" as const), via, session: sessionRef }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("health" as const), service: hostileText }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("ask" as const),
        body: httpBody(askFields),
        contentType: fc.constantFrom("application/json", "text/plain", "", "application/json; charset=latin1"),
        markers: fc.constant([] as string[]),
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .record({ renew, contentType: fc.constantFrom("application/json", "text/plain", "") })
        .map(({ renew: r, contentType }) => ({
          kind: "renew" as const,
          body: r.body,
          markers: r.markers,
          contentType,
        })),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("rawHttp" as const), bytes: rawHttpRequest }) },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("rawGrpc" as const), path: methodPaths, body: rawGrpcBody }),
    },
    {
      weight: 2,
      arbitrary: fc.oneof(
        fc.record({
          kind: fc.constant("rawConnect" as const),
          path: methodPaths,
          contentType: fc.constant("application/proto"),
          body: rawProto,
        }),
        fc.record({
          kind: fc.constant("rawConnect" as const),
          path: methodPaths,
          contentType: fc.constant("application/json"),
          body: fc.oneof(
            anyJsonText.map(utf8),
            config.map((c) => utf8(`{"config":${JSON.stringify(c.text)},"sessionId":"x","prompt":"y"}`)),
            fc
              .tuple(invalidUtf8, fc.string({ maxLength: 10 }))
              .map(([bad, s]) => concat(utf8(`{"sessionId":"${s}`), bad, utf8('","prompt":"p"}'))),
          ),
        }),
      ),
    },
  );
  return action.map(printable);
}
