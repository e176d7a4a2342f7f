// The rows of the manifest a training run reads (split,label,path), from the snapshot's TRAIN and
// VAL cells. One image can be the crop of several cells: the same field or crop uploaded to two
// cases (of one patient, or of two). The model's loader refuses a path listed twice, and an image
// both trained and validated on would choose the epoch and fit the temperature on what the model
// learned, so the rows hold each image once per run.

export interface ManifestItem {
  cellId: string;
  label: string;
  split: "TRAIN" | "VAL";
  cropSha256: string;
}

export interface ManifestRow {
  split: "train" | "val";
  label: string;
  cropSha256: string;
}

/**
 * One row per image: in TRAIN if any of its cells is (a copy in VAL would validate on a training
 * image), else in VAL. An image signed with different labels is left out: which label is right is
 * a question for a person, not something to train on. `notes` say what was left out, for the run log.
 */
export function manifestRows(items: readonly ManifestItem[]): { rows: ManifestRow[]; notes: string[] } {
  const byCrop = new Map<string, ManifestItem[]>();
  for (const i of items) byCrop.set(i.cropSha256, [...(byCrop.get(i.cropSha256) ?? []), i]);
  const rows: ManifestRow[] = [];
  let conflicting = 0;
  let notValidated = 0;
  let repeated = 0;
  for (const [cropSha256, cells] of byCrop) {
    const labels = new Set(cells.map((c) => c.label));
    if (labels.size > 1) {
      conflicting++;
      continue;
    }
    const trained = cells.some((c) => c.split === "TRAIN");
    if (trained && cells.some((c) => c.split === "VAL")) notValidated++;
    repeated += cells.length - 1;
    rows.push({ split: trained ? "train" : "val", label: cells[0]!.label, cropSha256 });
  }
  const notes: string[] = [];
  if (conflicting) notes.push(`${conflicting} image(s) left out: the same image was signed with different labels in different cells`);
  if (notValidated) notes.push(`${notValidated} image(s) in both TRAIN and VAL trained on only: validating on a training image would flatter the chosen epoch and the calibration`);
  if (repeated) notes.push(`${repeated} repeated cell(s) of an image already listed written once`);
  return { rows, notes };
}
