import { describe, expect, it } from "vitest";
import { type AnalysisView, analysisKey, analysisRefreshDue } from "./analysisRefresh";

/** The review page's effect, poll after poll: which polls reload the case. */
function follow(steps: { page: AnalysisView; poll: AnalysisView }[]): boolean[] {
  let lastRefreshedFor: string | null = null;
  return steps.map(({ page, poll }) => {
    const due = analysisRefreshDue(page, poll, lastRefreshedFor);
    if (due) lastRefreshedFor = analysisKey(poll);
    return due;
  });
}

const analysing = { caseStatus: "ANALYZING", analysing: 1 };

describe("analysisRefreshDue", () => {
  it("reloads once when an image's job fails, and again when the case reaches review after the image row catches up", () => {
    const jobFailed = { caseStatus: "ANALYZING", analysing: 0 };
    const reconciled = { caseStatus: "IN_REVIEW", analysing: 0 };
    expect(
      follow([
        { page: analysing, poll: analysing },
        // The job is FAILED; the image's row still says RUNNING: the reload renders the same page.
        { page: analysing, poll: jobFailed },
        { page: analysing, poll: jobFailed },
        { page: analysing, poll: jobFailed },
        // The worker has marked the image FAILED and the case IN_REVIEW: the page must reload, or it
        // stays read-only, "still being analysed", until someone reloads by hand.
        { page: analysing, poll: reconciled },
      ]),
    ).toEqual([false, true, false, false, true]);
  });

  it("reloads when an image has finished, not again while the page catches up", () => {
    const two = { caseStatus: "ANALYZING", analysing: 2 };
    expect(
      follow([
        { page: two, poll: two },
        { page: two, poll: analysing },
        { page: analysing, poll: analysing },
        { page: analysing, poll: { caseStatus: "IN_REVIEW", analysing: 0 } },
      ]),
    ).toEqual([false, true, false, true]);
  });

  it("does nothing before the first poll has answered", () => {
    expect(analysisRefreshDue(analysing, undefined, null)).toBe(false);
  });
});
