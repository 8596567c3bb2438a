import { ChatbotError } from "@chatgptchatbot/core";
import { expect } from "vitest";

/** What a promise rejects with; fails the test if it resolves. */
export async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

/** The ChatbotError a promise rejects with (fails the test if it resolves or rejects with anything else). */
export async function rejection(promise: Promise<unknown>): Promise<ChatbotError> {
  const error = await caught(promise);
  expect(error).toBeInstanceOf(ChatbotError);
  return error as ChatbotError;
}
