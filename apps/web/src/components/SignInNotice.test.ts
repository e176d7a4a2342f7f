import { describe, expect, it } from "vitest";
import { signInNoticeText } from "./SignInNotice";

describe("the sign-in look back", () => {
  const at = Date.parse("2026-11-26T09:12:00Z");

  it("names the previous sign-in, and the wrong passwords typed since", () => {
    expect(signInNoticeText(at, 0)).toBe("Your previous sign-in: 2026-11-26 09:12:00 UTC. Not you? Tell your administrator.");
    expect(signInNoticeText(at, 1)).toContain("At least 1 wrong password was typed for your account since then.");
    expect(signInNoticeText(at, 3)).toContain("At least 3 wrong passwords were typed");
  });

  it("says nothing at a first sign-in unless passwords were guessed before it", () => {
    expect(signInNoticeText(null, 0)).toBeNull();
    expect(signInNoticeText(null, 2)).toBe("At least 2 wrong passwords were typed for your account before this sign-in. Not you? Tell your administrator.");
  });
});
