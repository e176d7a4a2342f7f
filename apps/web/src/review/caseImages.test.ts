import { describe, expect, it } from "vitest";
import { canVoidImages, imageName, imageOptionText, numberImages, sortImages, voidedLine, voidTitle, type CaseImage } from "./caseImages";

const image = (id: string, analysisStatus: string, voided = false): CaseImage => ({
  id,
  kind: "FIELD",
  imageSha256: id.repeat(8),
  width: 100,
  height: 100,
  originalName: null,
  analysisStatus,
  analysisError: null,
  updatedAt: "2026-11-27T10:00:00.000Z",
  voidedAt: voided ? "2026-11-27T11:30:05.123Z" : null,
  voidReason: voided ? "wrong patient" : null,
  voidedBy: voided ? { login: "hana", displayName: "Dr. Hana" } : null,
});

describe("case images", () => {
  it("keeps voided images out of the counted, failed and analysing ones, whatever their analysis", () => {
    const sorted = sortImages([image("a", "DONE"), image("b", "FAILED"), image("c", "RUNNING"), image("d", "DONE", true), image("e", "FAILED", true), image("f", "PENDING", true)]);
    expect(sorted.counted.map((s) => s.id)).toEqual(["a", "c"]);
    expect(sorted.failed).toBe(1);
    expect(sorted.analysing).toBe(1);
    expect(sorted.voided.map((s) => s.id)).toEqual(["d", "e", "f"]);
  });

  it("numbers every image in upload order, voided and failed ones included, so the counted ones keep the panel's numbers", () => {
    // Four fields: the first voided, the third failed. The slide selector lists b and d; the
    // panel lists all four: b is image 2 and d image 4 in both, never "1" and "2".
    const numbered = numberImages([image("a", "DONE", true), image("b", "DONE"), image("c", "FAILED"), image("d", "DONE")]);
    expect(numbered.map((s) => [s.id, s.number])).toEqual([["a", 1], ["b", 2], ["c", 3], ["d", 4]]);
    const sorted = sortImages(numbered);
    expect(sorted.counted.map((s) => [s.id, s.number])).toEqual([["b", 2], ["d", 4]]);
    expect(sorted.voided.map((s) => [s.id, s.number])).toEqual([["a", 1]]);
  });

  it("names an image in the slide selector as the panel does, the file name isolated (text only in an option)", () => {
    const named = { ...image("b", "DONE"), originalName: "field_03.jpg", width: 640, height: 480 };
    expect(imageOptionText(named, 2)).toBe("Image 2 (\u2068field_03.jpg\u2069): smear field, 640×480");
    expect(imageOptionText(named, 2).replace(/[\u2068\u2069]/g, "")).toBe(imageName(named, 2));
    // No file name where the API withholds it from the role.
    expect(imageOptionText(image("b", "DONE"), 2)).toBe("Image 2: smear field, 100×100");
  });

  it("names an image by its upload order, file name where the role is shown it, kind and size", () => {
    expect(imageName({ ...image("a", "DONE"), originalName: "field_03.jpg", width: 640, height: 480 }, 2)).toBe("Image 2 (field_03.jpg): smear field, 640×480");
    expect(imageName({ ...image("a", "DONE"), kind: "CROP" }, 1)).toBe("Image 1: single-cell crop, 100×100");
  });

  it("asks to void an image by its name, the file name's case kept", () => {
    expect(voidTitle({ ...image("a", "DONE"), originalName: "Smith_J_Field_A.JPG" }, 3)).toBe("Void image 3 (Smith_J_Field_A.JPG): smear field, 100×100?");
  });

  it("says who voided an image, when (UTC) and why", () => {
    expect(voidedLine(image("d", "DONE", true))).toBe("Voided by Dr. Hana at 2026-11-27 11:30:05 UTC: wrong patient");
  });

  it("offers voiding to the roles that upload or review, on a case not signed; in an amendment to a hematologist only", () => {
    expect(canVoidImages("HEMATOLOGIST", "IN_REVIEW", 0)).toBe(true);
    expect(canVoidImages("TECHNICIAN", "ANALYZING", 0)).toBe(true);
    for (const status of ["SIGNED_OUT", "AMENDED"]) expect(canVoidImages("HEMATOLOGIST", status, 1)).toBe(false);
    for (const role of ["ADMIN", "AUDITOR", "DATA_SCIENTIST", null] as const) expect(canVoidImages(role, "IN_REVIEW", 0)).toBe(false);
    // The API's rule (voidSlide): the image's cells were signed in an earlier version.
    expect(canVoidImages("HEMATOLOGIST", "IN_REVIEW", 1)).toBe(true);
    expect(canVoidImages("TECHNICIAN", "IN_REVIEW", 1)).toBe(false);
    expect(canVoidImages("TECHNICIAN", "ANALYZING", 2)).toBe(false);
  });
});
