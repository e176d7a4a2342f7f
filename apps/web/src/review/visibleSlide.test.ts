import { describe, expect, it } from "vitest";
import { visibleSlide } from "./visibleSlide";

const one = { id: "img-1", kind: "FIELD" };
const two = { id: "img-2", kind: "FIELD" };
const three = { id: "img-3", kind: "FIELD" };

describe("visibleSlide", () => {
  it("shows the image chosen while it is listed, wherever the cursor is", () => {
    expect(visibleSlide([one, two, three], "img-2", "img-1")).toBe(two);
  });

  it("shows the cursor cell's image once the chosen one was voided, not a missing one", () => {
    // Image 2 chosen in the selector with the cursor on image 1; image 2 voided, the page reloaded without it.
    expect(visibleSlide([one, three], "img-2", "img-1")).toBe(one);
    // The cursor's image voided too (or no cursor): the first image.
    expect(visibleSlide([one, three], "img-2", "img-2")).toBe(one);
    expect(visibleSlide([one, three], "img-2", null)).toBe(one);
  });

  it("starts on the first field image, and shows nothing without images", () => {
    const crop = { id: "crop-1", kind: "CROP" };
    expect(visibleSlide([crop, two], null, null)).toBe(two);
    expect(visibleSlide([crop], null, null)).toBe(crop);
    expect(visibleSlide([], "img-1", "img-1")).toBeNull();
  });
});
