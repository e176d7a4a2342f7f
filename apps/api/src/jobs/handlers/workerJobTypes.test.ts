import { describe, expect, it } from "vitest";
import { workerJobTypes } from "./index.ts";

describe("workerJobTypes (RCMNET_WORKER_JOBS)", () => {
  it("takes every job type when unset or empty, else only those named", () => {
    expect(workerJobTypes(undefined)).toEqual(["analyzeSlide", "trainModel", "repredictOpenCases"]);
    expect(workerJobTypes(" ")).toEqual(["analyzeSlide", "trainModel", "repredictOpenCases"]);
    expect(workerJobTypes("analyzeSlide")).toEqual(["analyzeSlide"]);
    expect(workerJobTypes("trainModel, analyzeSlide,trainModel")).toEqual(["trainModel", "analyzeSlide"]);
  });

  it("refuses a type it does not know, naming the known ones", () => {
    expect(() => workerJobTypes("analyseSlide")).toThrow(/unknown job type\(s\) analyseSlide; known: analyzeSlide, trainModel, repredictOpenCases/);
    expect(() => workerJobTypes("toString")).toThrow(/unknown job type/);
  });
});
