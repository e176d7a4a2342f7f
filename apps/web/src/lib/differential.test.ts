// The page's live differential and the signed one must agree to the tenth of a percent: the
// sign-off dialog shows the signer what the signature will record.
import { describe, expect, it } from "vitest";
import { computeDifferential } from "../../../api/src/modules/cases/differential.ts";
import { whiteCellDifferential } from "./differential";

const LABELS = ["car_t", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil", "ig", "erythroblast", "platelet", "artifact", "unidentified"];

describe("whiteCellDifferential", () => {
  it("gives the API's answer for the same counts (random cases, ties included)", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let trial = 0; trial < 300; trial++) {
      const counts = LABELS.filter(() => rand(3) > 0).map((label) => ({ label, count: rand(trial % 3 === 0 ? 4 : 60) }));
      const api = computeDifferential(counts.map((c) => ({ ...c, reviewed: c.count })));
      const web = whiteCellDifferential(counts);
      const { total, artifacts, unlabelled, unreviewed, ...shared } = api;
      expect(web, JSON.stringify(counts)).toEqual(shared);
    }
  });
});
