import { describe, expect, it } from "vitest";
import { manifestRows } from "./trainingManifest.ts";

const item = (cellId: string, split: "TRAIN" | "VAL", cropSha256: string, label = "lymphocyte") => ({ cellId, split, cropSha256, label });

describe("training manifest rows", () => {
  it("lists each image once, in TRAIN if any of its cells is there, and leaves out an image signed with two labels", () => {
    const { rows, notes } = manifestRows([
      item("a", "TRAIN", "x"),
      item("b", "TRAIN", "x"), // the same crop uploaded to two cases of one patient
      item("c", "TRAIN", "y"),
      item("d", "VAL", "y"), // the same crop, two patients, one in each part
      item("e", "VAL", "z"),
      item("f", "TRAIN", "w", "car_t"),
      item("g", "VAL", "w", "lymphocyte"), // one image, two answers
    ]);
    expect(rows).toEqual([
      { split: "train", label: "lymphocyte", cropSha256: "x" },
      { split: "train", label: "lymphocyte", cropSha256: "y" },
      { split: "val", label: "lymphocyte", cropSha256: "z" },
    ]);
    expect(notes).toHaveLength(3);
    expect(notes[0]).toMatch(/^1 image\(s\) left out/);
    expect(notes[1]).toMatch(/^1 image\(s\) in both TRAIN and VAL/);
    expect(notes[2]).toMatch(/^2 repeated cell/);
  });

  it("takes the same pixels under other bytes (another PNG compression) for one image", () => {
    const px = (cellId: string, split: "TRAIN" | "VAL", cropSha256: string, pixelKey: string | null, label = "lymphocyte") => ({ cellId, split, cropSha256, pixelKey, label });
    const { rows, notes } = manifestRows([
      px("a", "TRAIN", "x-level6", "field1@10,10,64x64"), // patient A
      px("b", "VAL", "x-level9", "field1@10,10,64x64"), // patient B: the same crop re-saved
      px("c", "VAL", "y", null),
    ]);
    expect(rows).toEqual([
      { split: "train", label: "lymphocyte", cropSha256: "x-level6" },
      { split: "val", label: "lymphocyte", cropSha256: "y" },
    ]);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^1 image\(s\) in both TRAIN and VAL trained on only/);
    expect(notes[1]).toMatch(/^1 repeated cell/);
  });

  it("joins images through either key, transitively, and sees their conflicting labels", () => {
    const px = (cellId: string, split: "TRAIN" | "VAL", cropSha256: string, pixelKey: string | null, label = "lymphocyte") => ({ cellId, split, cropSha256, pixelKey, label });
    const { rows, notes } = manifestRows([
      px("a", "VAL", "p", "k1"),
      px("b", "VAL", "q", "k2"),
      px("c", "TRAIN", "q", "k1"), // bytes of b, pixels of a: a, b and c are one image
      px("d", "TRAIN", "r", "k3", "car_t"),
      px("e", "VAL", "s", "k3", "lymphocyte"), // one image under two bytes, two answers
    ]);
    expect(rows).toEqual([{ split: "train", label: "lymphocyte", cropSha256: "q" }]);
    expect(notes[0]).toMatch(/^1 image\(s\) left out/);
    expect(notes[1]).toMatch(/^1 image\(s\) in both TRAIN and VAL/);
    expect(notes[2]).toMatch(/^2 repeated cell/);
  });

  it("says nothing when every image is one cell", () => {
    expect(manifestRows([item("a", "TRAIN", "x"), item("b", "VAL", "y")]).notes).toEqual([]);
  });
});
