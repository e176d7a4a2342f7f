import { describe, expect, it } from "vitest";
import type { CaseImage } from "@/review/caseImages";
import { analysisRows, technicianMayVoid, voidLockedNote } from "./imageRows";

const image = (id: string, voided = false, analysisStatus = "DONE"): CaseImage => ({
  id,
  kind: "FIELD",
  imageSha256: id.repeat(8),
  width: 100,
  height: 100,
  originalName: `${id}.png`,
  analysisStatus,
  analysisError: null,
  updatedAt: "2026-11-27T10:00:00.000Z",
  voidedAt: voided ? "2026-11-27T11:30:05.123Z" : null,
  voidReason: voided ? "wrong patient" : null,
  voidedBy: voided ? { login: "tech", displayName: "Tom Technician" } : null,
});
const polled = (slideId: string) => ({ slideId, status: "DONE" });
/** Each row as "#n name" (or "#? name"), voided ones marked. */
const shown = (rows: ReturnType<typeof analysisRows>) => rows.map((r) => `${r.kind === "voided" ? "voided " : ""}#${r.number ?? "?"} ${r.slideId}`);

describe("analysisRows", () => {
  it("numbers the images as the review page does: image 2 voided, the third stays #3 (it was #2)", () => {
    // The poll leaves the voided image out; the header lists all three.
    const rows = analysisRows([image("a"), image("b", true), image("c")], [polled("a"), polled("c")]);
    expect(shown(rows)).toEqual(["#1 a", "voided #2 b", "#3 c"]);
    expect(rows[2]).toMatchObject({ kind: "image", polled: { slideId: "c" }, image: { originalName: "c.png", number: 3 } });
  });

  it("keeps a failed image's number, and a voided first image's", () => {
    expect(shown(analysisRows([image("a", true), image("b", false, "FAILED"), image("c")], [polled("b"), polled("c")]))).toEqual(["voided #1 a", "#2 b", "#3 c"]);
  });

  it("lists an image just uploaded, not yet in the header, last and without a number rather than a guessed one", () => {
    expect(shown(analysisRows([image("a"), image("b", true)], [polled("a"), polled("new")]))).toEqual(["#1 a", "voided #2 b", "#? new"]);
    // Before the header has loaded at all.
    expect(shown(analysisRows([], [polled("a")]))).toEqual(["#? a"]);
  });

  it("leaves out an image the poll no longer lists (voided elsewhere; the header is loaded again)", () => {
    expect(shown(analysisRows([image("a"), image("b")], [polled("a")]))).toEqual(["#1 a"]);
  });

  it("shows an image the header already has as voided as voided, whatever the older poll says", () => {
    expect(shown(analysisRows([image("a"), image("b", true)], [polled("a"), polled("b")]))).toEqual(["#1 a", "voided #2 b"]);
  });
});

describe("the upload page's Void image (the API's voidSlide rule for a technician)", () => {
  it("is offered before the first signature, whatever the analysis", () => {
    for (const status of ["RECEIVED", "ANALYZING", "IN_REVIEW"]) {
      expect(technicianMayVoid(status, 0)).toBe(true);
      expect(voidLockedNote(status, 0)).toBeNull();
    }
  });

  it("is not offered on a signed case, nor in an amendment (a hematologist's, D12), and says why", () => {
    for (const [status, version] of [["SIGNED_OUT", 1], ["AMENDED", 2]] as const) {
      expect(technicianMayVoid(status, version)).toBe(false);
      expect(voidLockedNote(status, version)).toMatch(/^Signed: .*amendment, by a hematologist/);
    }
    for (const status of ["IN_REVIEW", "ANALYZING"]) {
      expect(technicianMayVoid(status, 1)).toBe(false);
      expect(voidLockedNote(status, 1)).toMatch(/^Being amended \(signed as version 1\): only a hematologist may void/);
    }
  });
});
