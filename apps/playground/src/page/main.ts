/**
 * The playground page: reads the form, calls ChatbotService and renders the
 * conversation. Text from the server is only ever set as textContent.
 *
 * The credential lives in the password field and, for one call, in the
 * NewSession config string; the server's access token lives in its own
 * password field and goes out as a header on every call. Nothing is written to localStorage,
 * sessionStorage, cookies or the console.
 */
import { Code } from "@connectrpc/connect";
import { createChatbotClient, parseProtocol } from "./chatbot-client.js";
import { describeError } from "./error-text.js";
import { parseVersion, sessionConfigJson } from "./session-config.js";

type Role = "user" | "assistant" | "initial-prompt" | "note";
const ROLE_LABELS: Record<Role, string> = {
  user: "You",
  assistant: "Assistant",
  "initial-prompt": "Initial prompt",
  note: "Note",
};

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`the page has no #${id}`);
  return found;
}

const ui = {
  serverUrl: element("server-url", HTMLInputElement),
  protocol: element("protocol", HTMLSelectElement),
  serverToken: element("server-token", HTMLInputElement),
  version: element("version", HTMLSelectElement),
  credential: element("credential", HTMLInputElement),
  model: element("model", HTMLInputElement),
  baseUrl: element("base-url", HTMLInputElement),
  initialPrompt: element("initial-prompt", HTMLTextAreaElement),
  newSession: element("new-session", HTMLButtonElement),
  deleteSession: element("delete-session", HTMLButtonElement),
  sessionStatus: element("session-status", HTMLParagraphElement),
  sessionId: element("session-id", HTMLOutputElement),
  messages: element("messages", HTMLOListElement),
  chatForm: element("chat-form", HTMLFormElement),
  prompt: element("prompt", HTMLInputElement),
  send: element("send", HTMLButtonElement),
  error: element("error", HTMLDivElement),
  errorText: element("error-text", HTMLSpanElement),
  errorHint: element("error-hint", HTMLSpanElement),
  cooldown: element("cooldown", HTMLSpanElement),
};

/** The open session's id; the only session state the page keeps. */
let sessionId: string | undefined;
let busy = false;
let countdown: ReturnType<typeof setInterval> | undefined;

ui.serverUrl.value = window.location.origin;

function client() {
  return createChatbotClient({
    serverUrl: ui.serverUrl.value,
    protocol: parseProtocol(ui.protocol.value),
    accessToken: ui.serverToken.value,
  });
}

function render(): void {
  ui.newSession.disabled = busy || sessionId !== undefined;
  ui.deleteSession.disabled = busy || sessionId === undefined;
  ui.send.disabled = busy || sessionId === undefined;
  ui.sessionId.value = sessionId ?? "";
  document.body.dataset.busy = String(busy);
  document.body.dataset.session = sessionId === undefined ? "none" : "open";
}

/** Adds a message to the conversation; returns its item and the element holding its text. */
function addMessage(role: Role, text: string): { item: HTMLLIElement; body: HTMLSpanElement } {
  const item = document.createElement("li");
  item.className = "message";
  item.dataset.role = role;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = ROLE_LABELS[role];
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  item.append(who, body);
  ui.messages.append(item);
  item.scrollIntoView({ block: "nearest" });
  return { item, body };
}

function clearError(): void {
  if (countdown !== undefined) clearInterval(countdown);
  countdown = undefined;
  ui.error.hidden = true;
  ui.errorText.textContent = "";
  ui.cooldown.textContent = "";
  ui.errorHint.textContent = "";
  delete ui.error.dataset.code;
}

function showError(error: unknown): void {
  clearError();
  const view = describeError(error);
  ui.error.hidden = false;
  ui.error.dataset.code = view.codeName;
  ui.errorText.textContent = view.text;
  ui.errorHint.textContent = view.hint ?? "";
  if (view.retryAfterSeconds === undefined) return;
  const until = Date.now() + view.retryAfterSeconds * 1000;
  const tick = (): void => {
    const left = Math.ceil((until - Date.now()) / 1000);
    ui.cooldown.textContent = left > 0 ? `(retry in ${left} s)` : "(you may retry now)";
    if (left <= 0 && countdown !== undefined) {
      clearInterval(countdown);
      countdown = undefined;
    }
  };
  tick();
  countdown = setInterval(tick, 1000);
}

/** Runs one call: the buttons are disabled meanwhile and any failure is shown. */
async function run(status: string, call: () => Promise<void>): Promise<void> {
  if (busy) return;
  busy = true;
  clearError();
  ui.sessionStatus.textContent = status;
  render();
  try {
    await call();
  } catch (error) {
    showError(error);
  } finally {
    busy = false;
    if (ui.sessionStatus.textContent === status) {
      ui.sessionStatus.textContent = sessionId === undefined ? "No session." : "Session open.";
    }
    render();
  }
}

ui.newSession.addEventListener("click", () => {
  void run("Creating a session…", async () => {
    const config = sessionConfigJson({
      version: parseVersion(ui.version.value),
      credential: ui.credential.value,
      model: ui.model.value,
      baseUrl: ui.baseUrl.value,
    });
    const initialPrompt = ui.initialPrompt.value;
    const response = await client().newSession({ config, initialPrompt });
    sessionId = response.sessionId;
    ui.messages.replaceChildren();
    if (initialPrompt.trim() !== "") addMessage("initial-prompt", initialPrompt);
    if (response.initialResponse !== "") addMessage("assistant", response.initialResponse);
    else if (initialPrompt.trim() !== "")
      addMessage("note", "No initial response: this backend keeps the initial prompt as its system prompt.");
    ui.sessionStatus.textContent = "Session open.";
    ui.prompt.focus();
  });
});

ui.chatForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const id = sessionId;
  const prompt = ui.prompt.value;
  if (id === undefined || prompt.trim() === "") return;
  void run("Waiting for the reply…", async () => {
    // ChatStream: the reply grows sentence by sentence as the model writes it. A failure before the first
    // message leaves the conversation as it was (the prompt stays in the field for a retry), as Chat did.
    let reply: { item: HTMLLIElement; body: HTMLSpanElement } | undefined;
    try {
      for await (const message of client().chatStream({ sessionId: id, prompt })) {
        if (reply === undefined) {
          addMessage("user", prompt);
          reply = addMessage("assistant", "");
          reply.item.dataset.streaming = "true";
          reply.item.dataset.segments = "0";
          if (ui.prompt.value === prompt) ui.prompt.value = "";
        }
        // Every message but the last carries a sentence; the last, the whole reply (what Chat returns).
        if (message.sentence !== "") {
          const segment = document.createElement("span");
          segment.className = "segment";
          // Latin sentences are separated by a space, CJK ones are not (the final reply replaces this guess anyway).
          const cjk = /^[\u3000-\u9fff\uff00-\uffef]/.test(message.sentence);
          segment.textContent = reply.body.childElementCount === 0 || cjk ? message.sentence : ` ${message.sentence}`;
          reply.body.append(segment);
          reply.item.dataset.segments = String(reply.body.childElementCount);
          reply.item.scrollIntoView({ block: "nearest" });
        } else {
          reply.body.textContent = message.response;
          delete reply.item.dataset.streaming;
        }
      }
    } catch (error) {
      // Cut off mid-reply: what arrived stays, marked as incomplete.
      if (reply !== undefined) {
        delete reply.item.dataset.streaming;
        reply.item.dataset.interrupted = "true";
      }
      throw error;
    }
  });
});

ui.deleteSession.addEventListener("click", () => {
  const id = sessionId;
  if (id === undefined) return;
  void run("Deleting the session…", async () => {
    try {
      await client().deleteSession({ sessionId: id });
    } catch (error) {
      // Not found: already gone (evicted, or the server restarted), so the page forgets it too.
      if (describeError(error).code === Code.NotFound) sessionId = undefined;
      throw error;
    }
    sessionId = undefined;
    addMessage("note", "Session deleted.");
    ui.sessionStatus.textContent = "Session deleted.";
  });
});

render();
