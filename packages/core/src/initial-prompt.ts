import { type Backend, type ConversationState, collectReply } from "./backend.js";
import { ChatbotError } from "./errors.js";
import { filterReply } from "./reply-filter.js";
import type { SessionConfig } from "./session-config.js";

/** A new conversation's start: the reply to the initial prompt and the backend's state. */
export interface FreshConversation {
  readonly initialResponse: string;
  readonly conversation: ConversationState | null;
}

/** The start of a conversation with nothing asked ("system" backends, or no initial prompt). */
export const SILENT_START: FreshConversation = { initialResponse: "", conversation: null };

/**
 * Asks a session's initial prompt upstream, as the first message of a new
 * conversation (at creation and at every renew of an "ask" backend). It
 * bypasses the cooldown and uses the first credential.
 *
 * @throws Aborted when `signal` aborted; otherwise the backend's error as a ChatbotError.
 */
export async function askInitialPrompt({
  config,
  initialPrompt,
  backend,
  signal,
}: {
  config: SessionConfig;
  initialPrompt: string;
  backend: Backend;
  signal: AbortSignal;
}): Promise<FreshConversation> {
  const credential = config.credentials[0]!;
  try {
    const { text, result } = await collectReply(
      backend.ask({
        prompt: initialPrompt,
        systemPrompt: "",
        history: [],
        conversation: null,
        credential,
        config,
        signal,
      }),
    );
    return { initialResponse: config.filter ? filterReply(text) : text, conversation: result.conversation ?? null };
  } catch (error) {
    if (signal.aborted) throw ChatbotError.aborted(undefined, error);
    throw ChatbotError.from(error);
  }
}
