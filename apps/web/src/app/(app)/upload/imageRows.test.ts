import { describe, expect, it } from "vitest";
import type { CaseImage } from "@/review/caseImages";
import { analysisRows, noAnalysisNote, technicianMayVoid, voidLockedNote, voidOffer } from "./imageRows";

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

describe("the one list's void controls (voidOffer)", () => {
  const open = { status: "IN_REVIEW", reportVersion: 0 };
  /** Slide ids with a "Void image", and the number each button voids. */
  const offered = (o: ReturnType<typeof voidOffer>) => [...o.targets].map(([id, i]) => `${id} #${i.number}`);

  it("offers Void image on each row of an image not voided, voiding the very image (number, version) of that row", () => {
    const rows = analysisRows([image("a"), image("b", true), image("c")], [polled("a"), polled("c")]);
    const o = voidOffer(rows, open);
    expect(offered(o)).toEqual(["a #1", "c #3"]);
    expect(o.targets.get("c")).toMatchObject({ id: "c", originalName: "c.png", updatedAt: "2026-11-27T10:00:00.000Z" });
    expect(o.lockedNote).toBeNull();
  });

  it("offers none on a row just uploaded, not yet numbered: there is no image to name in the question, nor a version to check", () => {
    const o = voidOffer(analysisRows([image("a")], [polled("a"), polled("new")]), open);
    expect(offered(o)).toEqual(["a #1"]);
  });

  it("offers none, and says why once, where the technician may not void (signed, or being amended)", () => {
    const rows = analysisRows([image("a"), image("b")], [polled("a"), polled("b")]);
    const signed = voidOffer(rows, { status: "SIGNED_OUT", reportVersion: 1 });
    expect(offered(signed)).toEqual([]);
    expect(signed.lockedNote).toMatch(/^Signed: .*by a hematologist/);
    const amended = voidOffer(rows, { status: "IN_REVIEW", reportVersion: 1 });
    expect(offered(amended)).toEqual([]);
    expect(amended.lockedNote).toMatch(/^Being amended \(signed as version 1\)/);
  });

  it("offers nothing before the case is loaded (fails closed), and says nothing where no image is left to void", () => {
    expect(voidOffer(analysisRows([image("a")], [polled("a")]), null)).toEqual({ targets: new Map(), lockedNote: null });
    // Every image voided: no button, and no note about buttons there is nothing to offer for.
    const allVoided = analysisRows([image("a", true)], []);
    expect(voidOffer(allVoided, { status: "SIGNED_OUT", reportVersion: 1 })).toEqual({ targets: new Map(), lockedNote: null });
    expect(voidOffer(allVoided, open)).toEqual({ targets: new Map(), lockedNote: null });
  });
});

describe("the analysis panel with no image left to analyse", () => {
  it("lists the voided images itself (the table), rather than pointing to a second list", () => {
    expect(shown(analysisRows([image("a", true), image("b", true)], []))).toEqual(["voided #1 a", "voided #2 b"]);
    expect(noAnalysisNote(1)).toBe("No images to analyse: the one uploaded was voided (listed below).");
    expect(noAnalysisNote(2)).toBe("No images to analyse: all 2 uploaded were voided (listed below).");
    expect(noAnalysisNote(0)).toBe("No images in this case yet.");
  });
});
