import { describe, expect, it } from "vitest";
import {
  amendmentOpenedText,
  failedImagesText,
  meaningKind,
  noCellsNotice,
  openAmendmentOf,
  reportVersionText,
  retractionConfirmText,
  startingInputs,
  switchMeaning,
  withComment,
} from "./amendment";

const opened = {
  amendmentStartedAt: "2026-11-27T08:30:00.000Z",
  amendmentStartedBy: { login: "alice", displayName: "Dr A" },
  amendmentReason: "cell 12 is a blast",
};

describe("the amendment open on a case", () => {
  it("is read from the case with who opened it, when and why, and is none when nothing is open", () => {
    expect(openAmendmentOf({ status: "ANALYZING", reportVersion: 1, ...opened })).toEqual({
      of: 1,
      startedAt: "2026-11-27T08:30:00.000Z",
      startedBy: { login: "alice", displayName: "Dr A" },
      reason: "cell 12 is a blast",
    });
    expect(openAmendmentOf({ status: "AMENDED", reportVersion: 2, ...opened })).toBeNull();
    expect(openAmendmentOf({ status: "IN_REVIEW", reportVersion: 0, ...opened })).toBeNull();
  });

  it("names who opened it, when, and the reason the signature will certify", () => {
    const a = openAmendmentOf({ status: "IN_REVIEW", reportVersion: 1, ...opened })!;
    expect(amendmentOpenedText(a)).toBe("Amendment opened by Dr A (alice) at 2026-11-27 08:30:00 UTC: “cell 12 is a blast”.");
    // The API withholds the reason from roles that may not see patient references: said, not left out.
    expect(amendmentOpenedText({ ...a, reason: null })).toBe("Amendment opened by Dr A (alice) at 2026-11-27 08:30:00 UTC: reason withheld for your role.");
    expect(amendmentOpenedText({ ...a, startedAt: null, startedBy: null })).toBe("Amendment opened by an unknown user: “cell 12 is a blast”.");
  });

  it("gives the report version the page is about: signed, or the one being prepared", () => {
    expect(reportVersionText("RECEIVED", 0)).toBe("1");
    expect(reportVersionText("ANALYZING", 0)).toBe("1");
    expect(reportVersionText("SIGNED_OUT", 1)).toBe("1 (signed)");
    expect(reportVersionText("AMENDED", 2)).toBe("2 (signed)");
    expect(reportVersionText("AMENDED", 2, true)).toBe("2 (signed retraction: no valid result)");
    // Amending the retraction: the version in preparation, which may give a result again.
    expect(reportVersionText("IN_REVIEW", 2, true)).toBe("3 (amending version 2)");
    expect(reportVersionText("IN_REVIEW", 1)).toBe("2 (amending version 1)");
    // An image of the amendment being analysed: still version 2 in preparation, not "1 (signed)".
    expect(reportVersionText("ANALYZING", 1)).toBe("2 (amending version 1)");
  });
});

describe("a case with no cell left to review", () => {
  it("offers a retraction in an amendment whose images are all voided", () => {
    const n = noCellsNotice({ amending: 1, images: 0, voided: 2, failed: 0, analysing: 0 });
    expect(n.retract).toBe(true);
    expect(n.text).toBe(
      "Every image of this case is voided: there is no valid result to report, and version 1 stays the report of record until a signature replaces it. To withdraw version 1 without a result in its place, sign a retraction (no valid result); or upload this patient's images and sign a result.",
    );
  });

  it("says 'every image is voided' only where none failed", () => {
    const n = noCellsNotice({ amending: 1, images: 0, voided: 1, failed: 2, analysing: 0 });
    expect(n.retract).toBe(true);
    expect(n.text).toMatch(/^No image of this case has cells left \(1 voided, 2 failed\): there is no valid result to report, and version 1 stays the report of record/);
    expect(n.text).not.toMatch(/Every image/);
    expect(noCellsNotice({ amending: 1, images: 0, voided: 0, failed: 1, analysing: 0 })).toMatchObject({ text: expect.stringMatching(/^No image of this case has cells left \(1 failed\): /), retract: true });
    expect(noCellsNotice({ amending: null, images: 0, voided: 1, failed: 1, analysing: 0 }).text).toMatch(
      /^No image of this case has cells left \(1 voided, 1 failed\): there are no cells to sign\. A first report cannot be retracted/,
    );
    expect(noCellsNotice({ amending: null, signed: true, images: 0, voided: 1, failed: 1, analysing: 0 })).toEqual({ text: "No image of this case has cells left (1 voided, 1 failed).", retract: false });
  });

  it("says a first report cannot be retracted, and what to do instead", () => {
    const n = noCellsNotice({ amending: null, images: 0, voided: 1, failed: 0, analysing: 0 });
    expect(n.retract).toBe(false);
    expect(n.text).toMatch(/A first report cannot be retracted \(none was issued\): upload this patient's images on the upload page, or leave the case unsigned\.$/);
  });

  it("waits for an analysis under way, and keeps the words of a case without images or cells", () => {
    expect(noCellsNotice({ amending: 1, images: 0, voided: 1, failed: 0, analysing: 1 })).toEqual({
      text: "This case's images are still being analysed: their cells appear here when the analysis finishes.",
      retract: false,
    });
    expect(noCellsNotice({ amending: null, images: 0, voided: 0, failed: 0, analysing: 0 })).toEqual({
      text: "No image of this case has been analysed, so there are no cells to review: a technician adds images on the upload page.",
      retract: false,
    });
    expect(noCellsNotice({ amending: null, images: 2, voided: 0, failed: 0, analysing: 0 })).toEqual({ text: "No white cells were found in this case's images.", retract: false });
    expect(noCellsNotice({ amending: 2, images: 2, voided: 0, failed: 0, analysing: 0 }).retract).toBe(true);
    // Signed (a retraction over voided images, say): nothing to sign, and no first-report advice.
    expect(noCellsNotice({ amending: null, signed: true, images: 0, voided: 2, failed: 0, analysing: 0 })).toEqual({ text: "Every image of this case was voided: it has no cells to show.", retract: false });
  });
});

describe("the confirmation a retraction asks for", () => {
  it("names the version withdrawn, that no result replaces it, and the cells kept on record", () => {
    expect(retractionConfirmText(1, 0)).toBe("I retract version 1: it must not be used, and version 2 reports no valid result in its place.");
    expect(retractionConfirmText(2, 12)).toBe(
      "I retract version 2: it must not be used, and version 3 reports no valid result in its place. The 12 cells on this page stay recorded with my signature, not as a result.",
    );
  });
});

describe("the sign-off dialog's comment box and retraction tick", () => {
  const signedComment = "No blasts seen; lymphocytes reactive.";
  const opened = startingInputs({ kind: "approval", amending: true, signedComment });
  const switched = (inputs: ReturnType<typeof startingInputs>, ...kinds: ("approval" | "retraction")[]) => kinds.reduce(switchMeaning, inputs);
  const shown = (inputs: ReturnType<typeof startingInputs>) => inputs.drafts[inputs.kind];

  it("starts a retraction empty, never with the withdrawn version's comment; an amendment's approval from it", () => {
    expect(shown(opened)).toBe(signedComment);
    expect(shown(startingInputs({ kind: "retraction", amending: true, signedComment }))).toBe("");
    expect(shown(switched(opened, "retraction"))).toBe("");
    expect(shown(switched(opened, "retraction", "approval"))).toBe(signedComment);
    expect(shown(startingInputs({ kind: "approval", amending: true, signedComment: null }))).toBe("");
    expect(shown(startingInputs({ kind: "approval", amending: false, signedComment: null }))).toBe("");
    expect(meaningKind(true)).toBe("retraction");
    expect(meaningKind(false)).toBe("approval");
  });

  it("keeps a comment the signer cleared cleared across a switch to the retraction and back", () => {
    // Cleared on purpose: the withdrawn version's comment must not come back and be signed.
    const cleared = withComment(opened, "");
    expect(shown(switched(cleared, "retraction"))).toBe("");
    expect(shown(switched(cleared, "retraction", "approval"))).toBe("");
  });

  it("never carries the approval's comment into the retraction's note, however little was typed", () => {
    // A stray space made the whole comment count as typed, and it was signed as the note on the retraction.
    const stray = withComment(opened, `${signedComment} `);
    expect(shown(switched(stray, "retraction"))).toBe("");
    const edited = withComment(opened, `${signedComment} Smear of poor quality.`);
    expect(shown(switched(edited, "retraction"))).toBe("");
    expect(shown(switched(edited, "retraction", "approval"))).toBe(`${signedComment} Smear of poor quality.`);
  });

  it("keeps each kind's text as typed, and the retraction's note out of the approval's comment", () => {
    const note = "Smears were patient B's: see the amendment reason.";
    const retracting = withComment(switched(opened, "retraction"), note);
    expect(shown(retracting)).toBe(note);
    expect(shown(switched(retracting, "approval"))).toBe(signedComment);
    expect(shown(switched(retracting, "approval", "retraction"))).toBe(note);
    // Another meaning of the kind shown is no switch: nothing changes.
    expect(switchMeaning(retracting, "retraction")).toBe(retracting);
  });

  it("asks again for the retraction's tick after the meaning switched away and back", () => {
    const ticked = { ...switched(opened, "retraction"), retractionConfirmed: true };
    expect(switched(ticked, "approval", "retraction").retractionConfirmed).toBe(false);
    expect(switchMeaning(ticked, "retraction").retractionConfirmed).toBe(true);
  });
});

describe("images whose analysis failed, in the sign-off dialog", () => {
  it("asks a signer of a count to sign it without them", () => {
    expect(failedImagesText(1, false)).toBe("1 image of this case could not be analysed: this count leaves its cells out (a technician can upload it again). I sign the count without it.");
    expect(failedImagesText(2, false)).toBe("2 images of this case could not be analysed: this count leaves their cells out (a technician can upload them again). I sign the count without them.");
  });

  it("tells a retraction, which signs no count, that they contributed no cells", () => {
    expect(failedImagesText(2, true)).toBe("2 images of this case could not be analysed and contributed no cells; this retraction records that.");
    expect(failedImagesText(1, true)).not.toMatch(/I sign the count/);
  });
});
