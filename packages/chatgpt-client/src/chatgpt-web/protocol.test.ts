import { describe, expect, it } from "vitest";
import { errorDetail, nextActionBody, readConversationEvent, readConversationState } from "./protocol.js";

describe("readConversationState", () => {
  it("reads the pointer this backend returned, and nothing else", () => {
    expect(readConversationState({ conversationId: "c", parentMessageId: "m" })).toEqual({
      conversationId: "c",
      parentMessageId: "m",
    });
    expect(readConversationState(null)).toBeUndefined();
    expect(readConversationState({ conversationId: "c" })).toBeUndefined();
    expect(readConversationState({ conversationId: 1, parentMessageId: "m" })).toBeUndefined();
  });
});

describe("nextActionBody", () => {
  it("starts a conversation with a fresh parent id, and continues one from its pointer", () => {
    const first = nextActionBody({
      prompt: "hi",
      model: "auto",
      messageId: "u1",
      conversation: undefined,
      rootParentId: "root",
    });
    expect(first).toEqual({
      action: "next",
      messages: [
        { id: "u1", author: { role: "user" }, content: { content_type: "text", parts: ["hi"] }, metadata: {} },
      ],
      parent_message_id: "root",
      model: "auto",
      history_and_training_disabled: false,
    });
    const next = nextActionBody({
      prompt: "again",
      model: "auto",
      messageId: "u2",
      conversation: { conversationId: "c", parentMessageId: "a1" },
      rootParentId: "unused",
    });
    expect(next).toMatchObject({ conversation_id: "c", parent_message_id: "a1" });
  });
});

describe("readConversationEvent", () => {
  it("reads a message update", () => {
    const event = {
      message: {
        id: "a1",
        author: { role: "assistant" },
        content: { content_type: "text", parts: ["Hello"] },
        status: "in_progress",
      },
      conversation_id: "c",
      error: null,
    };
    expect(readConversationEvent(event)).toEqual({
      kind: "message",
      messageId: "a1",
      conversationId: "c",
      role: "assistant",
      text: "Hello",
      finished: false,
    });
    expect(
      readConversationEvent({ ...event, message: { ...event.message, status: "finished_successfully" } }),
    ).toMatchObject({ finished: true });
  });

  it("reads an error, and skips events of other kinds", () => {
    expect(readConversationEvent({ message: null, error: "Too many requests" })).toEqual({
      kind: "error",
      reason: "Too many requests",
    });
    expect(readConversationEvent({ type: "title_generation", title: "x" })).toBeUndefined();
    expect(readConversationEvent("v1")).toBeUndefined();
    expect(
      readConversationEvent({ message: { id: "x", content: { content_type: "code", parts: ["print(1)"] } } }),
    ).toBeUndefined();
    expect(
      readConversationEvent({
        message: { id: "x", author: { role: "assistant" }, content: { content_type: "thoughts", thoughts: [] } },
      }),
    ).toBeUndefined();
  });
});

describe("errorDetail", () => {
  it("finds the reason in the shapes upstreams use", () => {
    expect(errorDetail('{"detail":"Token expired"}')).toBe("Token expired");
    expect(errorDetail('{"detail":{"message":"Slow down","code":"rate_limited"}}')).toBe("Slow down (rate_limited)");
    expect(errorDetail('{"error":{"message":"nope"}}')).toBe("nope");
    expect(errorDetail("<html>502 Bad Gateway</html>")).toBe("<html>502 Bad Gateway</html>");
    expect(errorDetail("")).toBe("no reason given");
  });
});
