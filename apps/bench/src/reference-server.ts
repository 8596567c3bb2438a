/**
 * The reference of issue 16: the least a Node `ChatbotService` can do, to
 * measure the server against on the same load in the same run. grpc-js
 * serving unary NewSession / Chat / DeleteSession of `muvtuber.chatbot.v2`
 * (the descriptors of `@chatgptchatbot/proto`, so both answer the same wire
 * protocol to the same grpc-js load client), a message list per session in
 * memory capped at `maxTokens` estimated as characters / 4 (oldest turns
 * dropped), one chat at a time per session (a promise chain), and the upstream
 * call with undici's `Pool.request`: its event stream split into lines, each
 * `data:` line `JSON.parse`d, the deltas concatenated.
 *
 * Deliberately missing, because the reference is a floor, not a product: no
 * logging, no reply filter, no validation or bounds of what clients send, no
 * retries, no deadlines, no cooldown, no session limit, no persistence. What
 * the server spends beyond this is what those (and its extra protocols) cost.
 */
import { randomUUID } from "node:crypto";
import { create, type DescMessage, fromBinary, type MessageShape, toBinary } from "@bufbuild/protobuf";
import {
  ChatbotService,
  ChatRequestSchema,
  ChatResponseSchema,
  DeleteSessionRequestSchema,
  DeleteSessionResponseSchema,
  NewSessionRequestSchema,
  NewSessionResponseSchema,
} from "@chatgptchatbot/proto";
import * as grpc from "@grpc/grpc-js";
import { Pool } from "undici";

export interface ReferenceServerOptions {
  /** The system prompt of a session created without an initial prompt. */
  readonly defaultSystemPrompt: string;
  /** The model of a session whose config names none. */
  readonly defaultModel: string;
  /** Budget of system prompt + history + prompt, in tokens estimated as characters / 4 (default 3000). */
  readonly maxTokens?: number;
  /** Port on 127.0.0.1 (default 0: the OS picks). */
  readonly port?: number;
}

export interface ReferenceServer {
  /** "127.0.0.1:PORT" */
  readonly address: string;
  close(): Promise<void>;
}

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

/** Tokens of a text as the reference estimates them: characters / 4. */
export const estimateTokens = (chars: number): number => chars / 4;

/**
 * Drops the oldest turns (the user message after the system prompt and the
 * replies after it) until the messages' characters / 4 fit `maxTokens`; never
 * the system prompt (first) nor the new prompt (last).
 *
 * @returns the characters left.
 */
export function dropOldestTurns(messages: ChatMessage[], chars: number, maxTokens: number): number {
  let left = chars;
  while (estimateTokens(left) > maxTokens && messages.length > 2) {
    let end = 2;
    while (end < messages.length - 1 && messages[end]!.role === "assistant") end++;
    for (const dropped of messages.splice(1, end - 1)) left -= dropped.content.length;
  }
  return left;
}

interface Session {
  /** System prompt, history, in order. */
  readonly messages: ChatMessage[];
  /** Characters of `messages`' contents. */
  chars: number;
  readonly pool: Pool;
  readonly path: string;
  readonly authorization: string;
  readonly model: string;
  /** The chain the session's chats run on, one after the other. */
  tail: Promise<unknown>;
}

/** What a session's config may say (read as is: the reference validates nothing). */
interface SessionConfig {
  readonly api_key?: string;
  readonly base_url?: string;
  readonly model?: string;
}

const unaryMethod = <I extends DescMessage, O extends DescMessage>(name: string, input: I, output: O) => ({
  path: `/${ChatbotService.typeName}/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: (message: MessageShape<I>) => Buffer.from(toBinary(input, message)),
  requestDeserialize: (bytes: Buffer) => fromBinary(input, bytes),
  responseSerialize: (message: MessageShape<O>) => Buffer.from(toBinary(output, message)),
  responseDeserialize: (bytes: Buffer) => fromBinary(output, bytes),
});

/** The three unary methods (ChatStream is left out: grpc-js answers UNIMPLEMENTED for it). */
const definition = {
  NewSession: unaryMethod("NewSession", NewSessionRequestSchema, NewSessionResponseSchema),
  Chat: unaryMethod("Chat", ChatRequestSchema, ChatResponseSchema),
  DeleteSession: unaryMethod("DeleteSession", DeleteSessionRequestSchema, DeleteSessionResponseSchema),
} satisfies grpc.ServiceDefinition;

const failure = (code: grpc.status, message: string): grpc.ServerErrorResponse =>
  Object.assign(new Error(message), { code, details: message });

/** Reads one streamed chat completion: lines split, `data:` payloads parsed, deltas concatenated. */
async function readReply(body: AsyncIterable<string>): Promise<string> {
  let reply = "";
  let rest = "";
  for await (const chunk of body) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      if (!line.startsWith("data: ")) continue;
      const data = line.slice(6);
      if (data === "[DONE]") continue;
      const content = (JSON.parse(data) as { choices?: { delta?: { content?: unknown } }[] }).choices?.[0]?.delta
        ?.content;
      if (typeof content === "string") reply += content;
    }
  }
  return reply;
}

export async function startReferenceServer({
  defaultSystemPrompt,
  defaultModel,
  maxTokens = 3000,
  port = 0,
}: ReferenceServerOptions): Promise<ReferenceServer> {
  const sessions = new Map<string, Session>();
  /** One keep-alive pool per upstream origin. */
  const pools = new Map<string, Pool>();

  async function chat(session: Session, prompt: string): Promise<string> {
    session.messages.push({ role: "user", content: prompt });
    session.chars = dropOldestTurns(session.messages, session.chars + prompt.length, maxTokens);
    try {
      const res = await session.pool.request({
        path: session.path,
        method: "POST",
        headers: { "content-type": "application/json", authorization: session.authorization },
        body: JSON.stringify({ model: session.model, messages: session.messages, stream: true }),
      });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`the upstream answered ${res.statusCode}`);
      }
      res.body.setEncoding("utf8");
      const reply = await readReply(res.body);
      session.messages.push({ role: "assistant", content: reply });
      session.chars += reply.length;
      return reply;
    } catch (error) {
      // The turn did not happen: the prompt leaves the history again.
      session.messages.pop();
      session.chars -= prompt.length;
      throw error;
    }
  }

  const implementation: grpc.UntypedServiceImplementation = {
    NewSession(
      call: grpc.ServerUnaryCall<MessageShape<typeof NewSessionRequestSchema>, unknown>,
      callback: grpc.sendUnaryData<MessageShape<typeof NewSessionResponseSchema>>,
    ) {
      let config: SessionConfig;
      let url: URL;
      try {
        config = (call.request.config === "" ? {} : JSON.parse(call.request.config)) as SessionConfig;
        url = new URL(`${config.base_url ?? ""}/chat/completions`);
      } catch (error) {
        callback(failure(grpc.status.INVALID_ARGUMENT, String(error)));
        return;
      }
      let pool = pools.get(url.origin);
      if (pool === undefined) {
        pool = new Pool(url.origin, { keepAliveTimeout: 60_000 });
        pools.set(url.origin, pool);
      }
      const system = call.request.initialPrompt === "" ? defaultSystemPrompt : call.request.initialPrompt;
      const sessionId = randomUUID();
      sessions.set(sessionId, {
        messages: [{ role: "system", content: system }],
        chars: system.length,
        pool,
        path: url.pathname,
        authorization: `Bearer ${config.api_key ?? ""}`,
        model: config.model ?? defaultModel,
        tail: Promise.resolve(),
      });
      callback(null, create(NewSessionResponseSchema, { sessionId }));
    },

    Chat(
      call: grpc.ServerUnaryCall<MessageShape<typeof ChatRequestSchema>, unknown>,
      callback: grpc.sendUnaryData<MessageShape<typeof ChatResponseSchema>>,
    ) {
      const session = sessions.get(call.request.sessionId);
      if (session === undefined) {
        callback(failure(grpc.status.NOT_FOUND, "session not found"));
        return;
      }
      const turn = session.tail.then(() => chat(session, call.request.prompt));
      session.tail = turn.catch(() => undefined);
      turn.then(
        (response) => callback(null, create(ChatResponseSchema, { response })),
        (error: unknown) => callback(failure(grpc.status.UNAVAILABLE, String(error))),
      );
    },

    DeleteSession(
      call: grpc.ServerUnaryCall<MessageShape<typeof DeleteSessionRequestSchema>, unknown>,
      callback: grpc.sendUnaryData<MessageShape<typeof DeleteSessionResponseSchema>>,
    ) {
      const { sessionId } = call.request;
      if (!sessions.delete(sessionId)) {
        callback(failure(grpc.status.NOT_FOUND, "session not found"));
        return;
      }
      callback(null, create(DeleteSessionResponseSchema, { sessionId }));
    },
  };

  const server = new grpc.Server();
  server.addService(definition, implementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, actual) =>
      error ? reject(error) : resolve(actual),
    ),
  );
  return {
    address: `127.0.0.1:${bound}`,
    async close() {
      // Calls still open after a second (a client that went away mid-chat) are cut.
      const force = setTimeout(() => server.forceShutdown(), 1000);
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      clearTimeout(force);
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}
