import { describe, expect, it } from "vitest";
import type { NumberedImage } from "./caseImages";
import { voidQuestion, voidVariables } from "./voidImage";

const image = (id: string, updatedAt = "2026-11-27T10:00:00.000Z", number = 2): NumberedImage => ({
  id,
  kind: "FIELD",
  imageSha256: id.repeat(8),
  width: 640,
  height: 480,
  originalName: "field_02.jpg",
  analysisStatus: "DONE",
  analysisError: null,
  updatedAt,
  voidedAt: null,
  voidReason: null,
  voidedBy: null,
  number,
});

describe("the void question", () => {
  it("names the image by its number and file name, and asks for a reason of the API's minimum length", () => {
    const q = voidQuestion(image("b"));
    expect(q.title).toBe("Void image 2 (field_02.jpg): smear field, 640×480?");
    expect(q.confirm).toBe("Void image");
    expect(q.minLength).toBe(3);
    expect(q.label).toMatch(/\(required, 3 to 500 characters, recorded in the audit trail\)$/);
    expect(q.message).toMatch(/A void cannot be undone\.$/);
  });
});

describe("the void request", () => {
  it("is checked against the image the dialog was opened on, however often it is sent from that dialog", () => {
    // The page reloaded behind the dialog after a refusal (the image changed): a second try is still
    // the first version's, so the API refuses it again until the user has looked and asked anew.
    const asked = image("b", "2026-11-27T10:00:00.000Z");
    expect(voidVariables(asked, "wrong patient")).toEqual({
      slideId: "b",
      reason: "wrong patient",
      expectedUpdatedAt: "2026-11-27T10:00:00.000Z",
    });
  });
});
