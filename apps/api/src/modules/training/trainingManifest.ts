// The rows of the manifest a training run reads (split,label,path), from the snapshot's TRAIN and
// VAL cells. One image can be the crop of several cells: the same field or crop uploaded to two
// cases (of one patient, or of two), under the same bytes or the same pixels under other bytes (a
// crop re-saved at another PNG compression level; the pixel key of datasetSplit.ts). The model's
// loader refuses a path listed twice, and an image both trained and validated on would choose the
// epoch and fit the temperature on what the model learned, so the rows hold each image once per run.

export interface ManifestItem {
  cellId: string;
  label: string;
  split: "TRAIN" | "VAL";
  cropSha256: string;
  /** PIXEL_KEY_SQL of the cell (its slide's pixel hash and its box); null where the pixels were not hashed. */
  pixelKey?: string | null;
}

export interface ManifestRow {
  split: "train" | "val";
  label: string;
  cropSha256: string;
}

/**
 * One row per image, an image being the cells that share crop bytes or a pixel key (transitively):
 * in TRAIN if any of its cells is (a copy in VAL would validate on a training image), else in VAL;
 * its file is the crop of its first cell in that part. An image signed with different labels is
 * left out: which label is right is a question for a person, not something to train on. `notes`
 * say what was left out, for the run log.
 */
export function manifestRows(items: readonly ManifestItem[]): { rows: ManifestRow[]; notes: string[] } {
  // Union-find over the items, joined by each key they share with an earlier item.
  const parent = items.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  const firstByKey = new Map<string, number>();
  items.forEach((item, i) => {
    const keys = item.pixelKey ? [`crop:${item.cropSha256}`, `pixels:${item.pixelKey}`] : [`crop:${item.cropSha256}`];
    for (const key of keys) {
      const first = firstByKey.get(key);
      if (first === undefined) firstByKey.set(key, i);
      else {
        // The root with the lower index wins, so images keep the order of their first cell.
        const [a, b] = [find(first), find(i)];
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const byImage = new Map<number, ManifestItem[]>();
  items.forEach((item, i) => {
    const root = find(i);
    byImage.set(root, [...(byImage.get(root) ?? []), item]);
  });
  const rows: ManifestRow[] = [];
  let conflicting = 0;
  let notValidated = 0;
  let repeated = 0;
  for (const cells of [...byImage.entries()].sort(([a], [b]) => a - b).map(([, c]) => c)) {
    const labels = new Set(cells.map((c) => c.label));
    if (labels.size > 1) {
      conflicting++;
      continue;
    }
    const trained = cells.some((c) => c.split === "TRAIN");
    if (trained && cells.some((c) => c.split === "VAL")) notValidated++;
    repeated += cells.length - 1;
    const shown = cells.find((c) => c.split === (trained ? "TRAIN" : "VAL"))!;
    rows.push({ split: trained ? "train" : "val", label: shown.label, cropSha256: shown.cropSha256 });
  }
  const notes: string[] = [];
  if (conflicting) notes.push(`${conflicting} image(s) left out: the same image was signed with different labels in different cells`);
  if (notValidated) notes.push(`${notValidated} image(s) in both TRAIN and VAL trained on only: validating on a training image would flatter the chosen epoch and the calibration`);
  if (repeated) notes.push(`${repeated} repeated cell(s) of an image already listed written once`);
  return { rows, notes };
}
