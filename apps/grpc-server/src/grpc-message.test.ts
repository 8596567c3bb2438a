import { describe, expect, it } from "vitest";
import { encodeGrpcMessage } from "./grpc-message.js";

describe("encodeGrpcMessage", () => {
  it("keeps printable ASCII, escapes '%', control characters and UTF-8 bytes", () => {
    expect(encodeGrpcMessage("version & access_token|api_key is required: x; y")).toBe(
      "version & access_token|api_key is required: x; y",
    );
    expect(encodeGrpcMessage("100% sure\nnext")).toBe("100%25 sure%0Anext");
    expect(encodeGrpcMessage("café")).toBe("caf%C3%A9");
  });

  it("is read back to the same text by decodeURIComponent and by decodeURI (grpc-js)", () => {
    const text = "version & access_token|api_key: 50% of 会话; a=b?c#d";
    expect(decodeURIComponent(encodeGrpcMessage(text))).toBe(text);
    expect(decodeURI(encodeGrpcMessage(text))).toBe(text);
  });
});
