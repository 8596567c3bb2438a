import { rejection } from "@chatgptchatbot/testkit/testing";
import { describe, expect, it } from "vitest";
import { type AskPart, collectReply } from "./backend.js";
import { ErrorCode } from "./errors.js";

async function* stream(...parts: AskPart[]): AsyncGenerator<AskPart> {
  yield* parts;
}

describe("collectReply", () => {
  it("joins the text parts, drops the reasoning, and hands on what finish said", async () => {
    const collected = await collectReply(
      stream(
        { type: "reasoning", text: "think first" },
        { type: "text", text: "Hello, " },
        { type: "reasoning", text: "and more" },
        { type: "text", text: "world." },
        {
          type: "finish",
          conversation: { conversationId: "c9" },
          finishReason: "stop",
          usage: { completionTokens: 3 },
        },
      ),
    );
    expect(collected).toEqual({
      text: "Hello, world.",
      result: { conversation: { conversationId: "c9" }, finishReason: "stop", usage: { completionTokens: 3 } },
    });
  });

  it("a bare finish hands on nothing: the pool keeps the previous conversation", async () => {
    expect(await collectReply(stream({ type: "text", text: "ok" }, { type: "finish" }))).toEqual({
      text: "ok",
      result: {},
    });
    const cleared = await collectReply(stream({ type: "finish", conversation: null }));
    expect(cleared).toEqual({ text: "", result: { conversation: null } });
  });

  it("a stream without finish did not complete: Upstream 'ended early'", async () => {
    const error = await rejection(collectReply(stream({ type: "text", text: "half a rep" })));
    expect(error).toMatchObject({ code: ErrorCode.Upstream, message: "the upstream reply ended early" });
  });

  it("reads the stream to its end, and nothing after finish counts", async () => {
    let ended = false;
    async function* late(): AsyncGenerator<AskPart> {
      yield { type: "text", text: "whole" };
      yield { type: "finish" };
      yield { type: "text", text: " and a stray part" };
      ended = true;
    }
    expect(await collectReply(late())).toEqual({ text: "whole", result: {} });
    expect(ended).toBe(true);
  });
});
