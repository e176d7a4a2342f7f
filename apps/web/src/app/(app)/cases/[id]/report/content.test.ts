import { describe, expect, it } from "vitest";
import { rowPercentText } from "@/lib/differential";
import { changesSince, readReportContent } from "./content";

describe("signed report content", () => {
  it("reads the API's signed-report/1 shape", () => {
    const r = readReportContent({
      schema: "rcmnet.signed-report/1",
      differential: { total: 4, counted: 3, rows: [{ label: "car_t", count: 2, percent: 66.67 }, { label: "lymphocyte", count: 1, percent: 33.33 }], artifacts: 1, cartPercent: 66.67 },
      modelVersionIds: ["m1"],
      cells: [
        { label: "car_t", ai: { label: "car_t", abstained: false } },
        { label: "lymphocyte", ai: { label: "car_t", abstained: false } },
        { label: "unidentified", ai: { label: "car_t", abstained: true } },
        { label: "artifact", ai: null },
      ],
    });
    expect(r.rows.map((x) => [x.label, x.count, x.percent])).toEqual([
      ["car_t", 2, 66.67],
      ["lymphocyte", 1, 33.33],
      ["artifact", 1, null],
    ]);
    expect(r.total).toBe(4);
    expect(r.corrections).toBe(1);
    expect(r.modelVersionIds).toEqual(["m1"]);
    // /1 signed ids only: the name is looked up, not read from the signature.
    expect(r.models).toEqual([{ id: "m1", name: null }]);
  });

  it("reads the models' names and versions signed in signed-report/2", () => {
    const r = readReportContent({
      schema: "rcmnet.signed-report/2",
      modelVersionIds: ["m1", "m2"],
      models: [
        { id: "m1", name: "rcmnet", version: "v1" },
        { id: "m2", name: "rcmnet", version: "v2" },
      ],
    });
    expect(r.models).toEqual([
      { id: "m1", name: "rcmnet v1" },
      { id: "m2", name: "rcmnet v2" },
    ]);
  });

  it("reads the case, the slides and the signature as signed, not as the case is now", () => {
    const r = readReportContent({
      case: { id: "c1", accession: "ACC-1", product: "tisagenlecleucel", timepoint: "day +7", priority: "ROUTINE" },
      slides: [{ id: "s1", analysisStatus: "DONE" }, { id: "s2", analysisStatus: "FAILED" }, { id: "s3", analysisStatus: "DONE" }],
      signer: { id: "u1", login: "hema", name: "Dr. Hana" },
      signedAt: "2026-11-26T10:00:00.000Z",
      meaning: "Reviewed and approved",
    });
    expect(r.case).toEqual({ accession: "ACC-1", patientRef: null, product: "tisagenlecleucel", timepoint: "day +7", specimen: null, collectedAt: null, wbcCount: null });
    // signed-report/3 signs the patient reference too.
    expect(readReportContent({ schema: "rcmnet.signed-report/3", case: { accession: "ACC-1", patientRef: "MRN-1" } }).case.patientRef).toBe("MRN-1");
    expect(r.slides).toEqual({ total: 3, failed: 1, fields: 0, crops: 0, fieldsCounted: 0, cropsCounted: 0, voided: [] });
    // By kind: crops are chosen by a person, and the report says their shares are no differential.
    // A failed image contributed no cells: the Method line and the crops warning count only the others.
    expect(readReportContent({ slides: [{ kind: "FIELD" }, { kind: "CROP" }, { kind: "CROP", analysisStatus: "FAILED" }, { kind: "FIELD", analysisStatus: "FAILED" }] }).slides).toEqual({
      total: 4,
      failed: 2,
      fields: 2,
      crops: 2,
      fieldsCounted: 1,
      cropsCounted: 1,
      voided: [],
    });
    // The login beside the name: display names need not be unique.
    expect(r.signature).toEqual({ name: "Dr. Hana", login: "hema", signedAt: "2026-11-26T10:00:00.000Z", meaning: "Reviewed and approved" });
  });

  it("says whose decisions the count holds, most cells first", () => {
    const cells = [
      { id: "a", label: "car_t", decidedBy: "resident1" },
      { id: "b", label: "lymphocyte", decidedBy: "attending" },
      { id: "c", label: "car_t", decidedBy: "resident1" },
      { id: "d", label: "car_t" },
    ];
    expect(readReportContent({ cells }).decidedBy).toEqual([
      { login: "resident1", cells: 2 },
      { login: "attending", cells: 1 },
    ]);
    expect(readReportContent({ cells: [{ id: "a", label: "car_t" }] }).decidedBy).toBeNull();
    expect(readReportContent({}).decidedBy).toBeNull();
  });

  it("survives garbage", () => {
    expect(readReportContent(null)).toEqual({
      rows: [],
      total: null,
      counted: null,
      modelVersionIds: [],
      models: [],
      corrections: null,
      decidedBy: null,
      unidentifiedReasons: null,
      groupConfirmed: null,
      cellLabels: null,
      cartPercent: null,
      cartCount: null,
      cartAssessed: true,
      whiteCells: null,
      intendedUse: null,
      case: { accession: null, patientRef: null, product: null, timepoint: null, specimen: null, collectedAt: null, wbcCount: null },
      caseKeys: [],
      absoluteCounts: null,
      slides: null,
      signature: { name: null, login: null, signedAt: null, meaning: null },
      comment: null,
      retracted: false,
    });
  });

  it("reads the white-cell differential and the intended use of signed-report/4", () => {
    const c = readReportContent({
      schema: "rcmnet.signed-report/4",
      intendedUse: "For research use only.",
      differential: {
        total: 10, counted: 7, artifacts: 1,
        rows: [{ label: "lymphocyte", count: 4, percent: 57.1 }, { label: "car_t", count: 3, percent: 42.9 }],
        excluded: [{ label: "artifact", count: 1 }, { label: "platelet", count: 2 }],
        cartPercent: 42.9, cartPercentCi95: [15.8, 75], lymphocytePercent: 100, cartPercentOfLymphocytes: 42.9, nrbcPer100Wbc: 0, belowMinimum: true,
      },
    });
    // Artifacts once, from `excluded`, not again from the legacy `artifacts` count.
    expect(c.rows.map((r) => [r.label, r.percent])).toEqual([["lymphocyte", 57.1], ["car_t", 42.9], ["artifact", null], ["platelet", null]]);
    expect(c.whiteCells).toEqual({ cartPercentCi95: [15.8, 75], lymphocytePercent: 100, cartPercentOfLymphocytes: 42.9, nrbcPer100Wbc: 0, belowMinimum: true });
    expect(c.intendedUse).toBe("For research use only.");
    expect(c.absoluteCounts).toBeNull();
    const withCount = readReportContent({
      case: { specimen: "peripheral blood", collectedAt: "2026-11-20T08:30:00.000Z", wbcCount: 4.2 },
      absoluteCounts: { wbcPerUl: 4200, cartPerUl: 1800, cartPerUlCi95: [1100, 2600], lymphocytesPerUl: 4200 },
    });
    expect(withCount.case).toMatchObject({ specimen: "peripheral blood", collectedAt: "2026-11-20T08:30:00.000Z", wbcCount: 4.2 });
    expect(withCount.absoluteCounts).toEqual({ wbcPerUl: 4200, cartPerUl: 1800, cartPerUlCi95: [1100, 2600], lymphocytesPerUl: 4200 });
    expect(withCount.cartAssessed).toBe(true);
  });

  it("reads no share where no white cell was counted as none, and a 0 signed before that as signed", () => {
    // Every cell an artifact or left unidentified: nothing measured, so null shares (printed "—").
    const none = readReportContent({
      schema: "rcmnet.signed-report/8",
      differential: {
        total: 5, counted: 0, rows: [{ label: "car_t", count: 0, percent: null }, { label: "lymphocyte", count: 0, percent: null }],
        excluded: [{ label: "artifact", count: 3 }, { label: "unidentified", count: 2 }],
        cartAssessed: true, cartCount: 0, cartPercent: null, cartPercentCi95: null, lymphocytePercent: null, cartPercentOfLymphocytes: null, nrbcPer100Wbc: null, belowMinimum: true,
      },
    });
    expect(none.rows.map((r) => [r.label, r.percent, r.excluded, rowPercentText(r, r.excluded)])).toEqual([
      ["car_t", null, false, "—"],
      ["lymphocyte", null, false, "—"],
      ["artifact", null, true, "excl."],
      ["unidentified", null, true, "excl."],
    ]);
    expect(none.cartPercent).toBeNull();
    expect(none.whiteCells).toMatchObject({ lymphocytePercent: null, cartPercentCi95: null });
    // Signed before: 0 in every row and cartPercent 0. A signed record is never rewritten: read and printed as signed.
    const old = readReportContent({
      schema: "rcmnet.signed-report/8",
      differential: { total: 3, counted: 0, rows: [{ label: "car_t", count: 0, percent: 0 }], excluded: [{ label: "artifact", count: 3 }], cartPercent: 0, lymphocytePercent: 0, belowMinimum: true },
    });
    expect(old.rows.map((r) => [r.label, r.percent, rowPercentText(r, r.excluded)])).toEqual([["car_t", 0, "0.0%"], ["artifact", null, "excl."]]);
    expect(old.cartPercent).toBe(0);
  });

  it("reads a /6 report whose cells were not screened for CAR-T: no CAR-T figures, lymphocytes per µL kept", () => {
    const c = readReportContent({
      schema: "rcmnet.signed-report/6",
      differential: {
        total: 3, counted: 3, rows: [{ label: "lymphocyte", count: 3, percent: 100 }], excluded: [],
        cartAssessed: false, cartCount: 0, cartPercent: null, cartPercentCi95: null, lymphocytePercent: 100, cartPercentOfLymphocytes: null, belowMinimum: true,
      },
      absoluteCounts: { wbcPerUl: 4200, cartPerUl: null, cartPerUlCi95: null, lymphocytesPerUl: 4200 },
    });
    expect(c.cartAssessed).toBe(false);
    expect(c.cartPercent).toBeNull();
    expect(c.absoluteCounts).toEqual({ wbcPerUl: 4200, cartPerUl: null, cartPerUlCi95: null, lymphocytesPerUl: 4200 });
    // A CAR-T count missing from a report that says it assessed CAR-T is damage, not "not assessed".
    expect(readReportContent({ absoluteCounts: { wbcPerUl: 4200, cartPerUl: null, lymphocytesPerUl: 4200 } }).absoluteCounts).toBeNull();
  });

  it("reads the images voided before signing (/7): listed with who, when and why, counted nowhere", () => {
    const c = readReportContent({
      schema: "rcmnet.signed-report/7",
      slides: [
        { id: "a", kind: "FIELD", analysisStatus: "DONE", voided: null },
        { id: "b", kind: "FIELD", analysisStatus: "DONE", voided: { at: "2026-11-27T11:30:00.000Z", byLogin: "hana", reason: "wrong patient" } },
        { id: "c", kind: "CROP", analysisStatus: "FAILED", voided: { at: "2026-11-27T11:31:00.000Z", byLogin: "tess", reason: "blurred" } },
        { id: "d", kind: "FIELD", analysisStatus: "FAILED", voided: null },
      ],
    });
    expect(c.slides).toEqual({
      total: 4, failed: 1, fields: 3, crops: 1, fieldsCounted: 1, cropsCounted: 0,
      voided: [
        { byLogin: "hana", at: "2026-11-27T11:30:00.000Z", reason: "wrong patient" },
        { byLogin: "tess", at: "2026-11-27T11:31:00.000Z", reason: "blurred" },
      ],
    });
    // Reports signed before voiding existed read as they always did: no image voided.
    expect(readReportContent({ schema: "rcmnet.signed-report/6", slides: [{ kind: "FIELD", analysisStatus: "DONE" }] }).slides?.voided).toEqual([]);
  });

  it("reads the signer's morphology comment (/7) and a blast row among the white cells", () => {
    const r = readReportContent({
      schema: "rcmnet.signed-report/7",
      differential: {
        counted: 10,
        rows: [{ label: "lymphocyte", count: 6, percent: 60 }, { label: "ig", count: 1, percent: 10 }, { label: "blast", count: 3, percent: 30 }],
        excluded: [{ label: "erythroblast", count: 2 }],
      },
      comment: "Blasts 30%: relapse?\nRecommend flow cytometry.",
    });
    expect(r.comment).toBe("Blasts 30%: relapse?\nRecommend flow cytometry.");
    expect(r.rows.map((x) => [x.label, x.count, x.percent])).toEqual([
      ["lymphocyte", 6, 60],
      ["ig", 1, 10],
      ["blast", 3, 30],
      ["erythroblast", 2, null],
    ]);
    // None given (null), blank, or not text: no comment; a report signed before comments has none either.
    for (const comment of [null, "   ", 42, { text: "x" }]) expect(readReportContent({ comment }).comment).toBeNull();
    expect(readReportContent({ schema: "rcmnet.signed-report/6" }).comment).toBeNull();
  });

  it("says whether an amendment added, changed or removed the morphology comment", () => {
    const signed = (extra: Record<string, unknown>) => readReportContent({ differential: { rows: [], excluded: [] }, cells: [], ...extra });
    const [none, blasts, flow, older] = [signed({ comment: null }), signed({ comment: "Blasts seen" }), signed({ comment: "Blasts seen; flow sent" }), signed({})];
    expect(changesSince(none, blasts).comment).toBe("added");
    expect(changesSince(blasts, flow).comment).toBe("changed");
    expect(changesSince(flow, none).comment).toBe("removed");
    expect(changesSince(flow, flow).comment).toBeNull();
    // A version signed before comments existed had none: a comment now is added.
    expect(changesSince(older, blasts).comment).toBe("added");
    expect(changesSince(older, none).comment).toBeNull();
  });

  it("says what an amendment changed: cells relabelled and the classes whose count moved", () => {
    const v1 = readReportContent({
      differential: { rows: [{ label: "lymphocyte", count: 2, percent: 66.7 }, { label: "car_t", count: 1, percent: 33.3 }], excluded: [] },
      cells: [{ id: "a", label: "lymphocyte" }, { id: "b", label: "lymphocyte" }, { id: "c", label: "car_t" }],
    });
    const v2 = readReportContent({
      differential: { rows: [{ label: "car_t", count: 2, percent: 100 }], excluded: [{ label: "artifact", count: 1 }] },
      cells: [{ id: "a", label: "car_t" }, { id: "b", label: "artifact" }, { id: "c", label: "car_t" }],
    });
    expect(changesSince(v1, v2)).toEqual({
      relabelled: 2,
      counts: [
        { label: "car_t", before: 1, after: 2 },
        { label: "artifact", before: 0, after: 1 },
        { label: "lymphocyte", before: 2, after: 0 },
      ],
      details: [],
      comment: null,
      withheld: [],
    });
    expect(changesSince(v1, v1)).toEqual({ relabelled: 0, counts: [], details: [], comment: null, withheld: [] });
  });

  it("gathers why cells were left unidentified (/5), none before reasons were signed", () => {
    const cells = [
      { id: "a", label: "unidentified", action: "CONFIRM", reason: "smudged" },
      { id: "b", label: "Unidentified", action: "RECLASSIFY", reason: "out of focus" },
      { id: "c", label: "unidentified", action: "CONFIRM", reason: "smudged" },
      { id: "d", label: "car_t", action: "CONFIRM", reason: null },
    ];
    expect(readReportContent({ cells }).unidentifiedReasons).toEqual([{ reason: "smudged", count: 2 }, { reason: "out of focus", count: 1 }]);
    expect(readReportContent({ cells: [{ id: "a", label: "unidentified" }] }).unidentifiedReasons).toBeNull();
    // Which cells were confirmed with a gallery group (/5): the count, CAR-T cells among them.
    const grouped = [{ id: "a", label: "car_t", bulk: 3 }, { id: "b", label: "CAR-T", bulk: 3 }, { id: "c", label: "lymphocyte", bulk: 3 }, { id: "d", label: "car_t", bulk: null }];
    expect(readReportContent({ cells: grouped }).groupConfirmed).toEqual({ cells: 3, cart: 2 });
    expect(readReportContent({ cells: [{ id: "a", label: "car_t" }] }).groupConfirmed).toBeNull();
  });

  it("says which case details an amendment changed, though no cell moved", () => {
    const signed = (kase: Record<string, unknown>) =>
      readReportContent({ differential: { rows: [{ label: "car_t", count: 1, percent: 100 }], excluded: [] }, cells: [{ id: "a", label: "car_t" }], case: kase });
    const v1 = signed({ specimen: "peripheral blood", wbcCount: 4.2, collectedAt: "2026-11-20T08:30:00.000Z" });
    const v2 = signed({ specimen: "peripheral blood", wbcCount: 0.42, collectedAt: null });
    expect(changesSince(v1, v2)).toEqual({
      relabelled: 0,
      counts: [],
      details: [
        { name: "collected", before: "2026-11-20 08:30:00 UTC", after: "none" },
        { name: "WBC", before: "4.2 ×10⁹/L", after: "0.42 ×10⁹/L" },
      ],
      comment: null,
      withheld: [],
    });
    // A version signed before a detail was signed at all has not changed it "from none".
    const older = signed({ accession: "A-1" });
    expect(changesSince(older, v1).details).toEqual([]);
  });

  it("says which parts it cannot compare where the API withheld them from the reader, never that they are unchanged", () => {
    // As an administrator reads two /7 versions: patient reference, collection time and comment nulled by the API.
    const signed = (kase: Record<string, unknown>, extra: Record<string, unknown> = { comment: null }) =>
      readReportContent({ differential: { rows: [{ label: "car_t", count: 1, percent: 100 }], excluded: [] }, cells: [{ id: "a", label: "car_t" }], case: kase, ...extra });
    const v1 = signed({ patientRef: null, specimen: "peripheral blood", collectedAt: null, wbcCount: 4.2 });
    const v2 = signed({ patientRef: null, specimen: "peripheral blood", collectedAt: null, wbcCount: 0.42 });
    // SignOff.withheld of both versions: each held a value as signed.
    const withheld = ["case.patientRef", "case.collectedAt", "comment", "auditAnchor.hash"];
    expect(changesSince(v1, v2, { withheld })).toEqual({
      relabelled: 0,
      counts: [],
      details: [{ name: "WBC", before: "4.2 ×10⁹/L", after: "0.42 ×10⁹/L" }],
      comment: null,
      withheld: ["patient reference", "collection time", "morphology comment"],
    });
    // A comment withheld from one version only (the other signed none): still not compared.
    expect(changesSince(v1, v2, { withheld: ["comment"] })).toMatchObject({ comment: null, withheld: ["morphology comment"] });
    // Only what both versions signed: a /2 report had no patient reference, a /6 one no comment.
    const older = signed({ specimen: "peripheral blood", wbcCount: 4.2 }, {});
    expect(changesSince(older, older, { withheld: ["auditAnchor.hash"] }).withheld).toEqual([]);
    // Nothing withheld (signed as none, or a role that sees them): the nulls are real, compared, and equal.
    expect(changesSince(v1, v2, { withheld: ["auditAnchor.hash"] }).withheld).toEqual([]);
    expect(changesSince(v1, v2).withheld).toEqual([]);
    expect(changesSince(v1, v2).comment).toBeNull();
  });
});

describe("a retracted report", () => {
  it("is read from the signed content (/8), and from its meaning where the flag is missing", () => {
    expect(readReportContent({ schema: "rcmnet.signed-report/8", retracted: true, meaning: "Amended report: retracted, no valid result" }).retracted).toBe(true);
    expect(readReportContent({ schema: "rcmnet.signed-report/8", retracted: false, meaning: "Amended report: reviewed and approved" }).retracted).toBe(false);
    // A meaning that says retraction wins over a missing or false flag: shown as withdrawn, never as a result.
    expect(readReportContent({ meaning: "Amended report: retracted, no valid result" }).retracted).toBe(true);
    expect(readReportContent({ retracted: "yes" }).retracted).toBe(false);
    // Reports signed before /8 never retract.
    expect(readReportContent({ schema: "rcmnet.signed-report/7", meaning: "Amended report: reviewed and approved" }).retracted).toBe(false);
    expect(readReportContent({ schema: "rcmnet.signed-report/1" }).retracted).toBe(false);
  });
});
