import { describe, expect, it } from "vitest";
import { fromGraphQLErrors, sessionEndedUrl } from "./errors";

describe("API errors", () => {
  it("keep the API's reason for ending a session, and only the known ones", () => {
    const idle = fromGraphQLErrors([{ message: "You were signed out after a period without activity; sign in again", extensions: { code: "UNAUTHENTICATED", reason: "idle" } }]);
    expect([idle.code, idle.reason]).toEqual(["UNAUTHENTICATED", "idle"]);
    expect(fromGraphQLErrors([{ message: "x", extensions: { code: "UNAUTHENTICATED", reason: "<script>" } }]).reason).toBeUndefined();
    expect(fromGraphQLErrors([{ message: "Sign in first", extensions: { code: "UNAUTHENTICATED" } }]).reason).toBeUndefined();
  });

  it("say when a sign-off needs the user ID typed, from the API's flag rather than its wording", () => {
    const asked = fromGraphQLErrors([{ message: "Reworded one day", extensions: { code: "BAD_USER_INPUT", needsUserId: true } }]);
    expect(asked.needsUserId).toBe(true);
    expect(fromGraphQLErrors([{ message: "the first signature of a session takes both", extensions: { code: "BAD_USER_INPUT" } }]).needsUserId).toBe(false);
    expect(fromGraphQLErrors([{ message: "x", extensions: { code: "BAD_USER_INPUT", needsUserId: "yes" } }]).needsUserId).toBe(false);
  });

  it("lead a refused session to the session-ended page, with the reason where there is one", () => {
    expect(sessionEndedUrl("/cases/1/review?x=1", "idle")).toBe("/session-ended?callbackUrl=%2Fcases%2F1%2Freview%3Fx%3D1&reason=idle");
    expect(sessionEndedUrl("/worklist")).toBe("/session-ended?callbackUrl=%2Fworklist");
  });

  it("hide internal messages", () => {
    expect(fromGraphQLErrors([{ message: "relation x does not exist", extensions: { code: "INTERNAL_SERVER_ERROR" } }]).message).not.toMatch(/relation/);
  });
});
