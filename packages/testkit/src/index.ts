export { chunkText, chunkTokens } from "./chunk-text.js";
export type { TokenizedMessage } from "./count-tokens.js";
export {
  countPromptTokens,
  countTextTokens,
  REPLY_PRIMING_TOKENS,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_NAME,
} from "./count-tokens.js";
export type { ConversationMessage, FakeChatGPTWeb, FakeChatGPTWebOptions } from "./fake-chatgpt-web.js";
export { startFakeChatGPTWeb } from "./fake-chatgpt-web.js";
export type { FakeOpenAI, FakeOpenAIOptions, FakeReasoning, ReasoningForm } from "./fake-openai.js";
export { startFakeOpenAI } from "./fake-openai.js";
export type { Fault } from "./fault.js";
export type { HttpProxy } from "./http-proxy.js";
export { isLoopbackHost, startHttpProxy } from "./http-proxy.js";
export type { LocalServer } from "./local-server.js";
export { startLocalServer } from "./local-server.js";
export type { RecordedRequest } from "./recorded-request.js";
export type { SampleLanguage } from "./sample-replies.js";
export { SAMPLE_REASONING, SAMPLE_REPLIES } from "./sample-replies.js";
export { formatSSE, parseSSE, readSSE, SSE_DONE } from "./sse.js";
