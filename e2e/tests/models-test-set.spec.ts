// The registry lists versions side by side, each with the test figures of its own training run:
// those figures come from different TEST parts, so each row names its snapshot and its TEST cell
// count beside them, and the page says the rows do not compare.
import pg from "pg";
import { expect, login, test } from "../support/fixtures";

interface Seeded {
  name: string;
  version: string;
  snapshot: string;
  cells: number;
  accuracy: string;
}
const seeded: Seeded[] = [];

// Two archived copies of the champion, each with test figures on a snapshot of its own (as a
// training run records them: metrics.snapshotId and metrics.test).
test.beforeAll(async () => {
  const db = new pg.Client({ connectionString: process.env.E2E_DATABASE_URL });
  await db.connect();
  try {
    const stamp = Date.now().toString(36);
    const sets = [
      { suffix: "a", cells: 37, accuracy: 0.81 },
      { suffix: "b", cells: 52, accuracy: 0.64 },
    ];
    for (const set of sets) {
      const snapshot = `e2e-test-set-${set.suffix}-${stamp}`;
      const { rows: snap } = await db.query(
        `INSERT INTO dataset_snapshot (id, name, labels, "itemCount", "contentHash", "createdById")
         VALUES (gen_random_uuid(), $1, ARRAY['car_t'], 0, 'e2e-test-set', (SELECT id FROM "user" WHERE login = 'ds'))
         RETURNING id`,
        [snapshot],
      );
      const metrics = { snapshotId: snap[0].id, test: { count: set.cells, accuracy: set.accuracy, macroF1: set.accuracy - 0.1 } };
      const { rows: model } = await db.query(
        `INSERT INTO model_version SELECT * FROM jsonb_populate_record(NULL::model_version,
           (SELECT to_jsonb(m) || jsonb_build_object('id', gen_random_uuid(), 'version', m.version || $1, 'status', 'ARCHIVED',
                   'trainingRunId', NULL, 'parentId', NULL, 'metrics', $2::jsonb)
            FROM model_version m ORDER BY (m.status = 'CHAMPION') DESC, m."createdAt" LIMIT 1))
         RETURNING name, version`,
        [`-e2e-test-set-${set.suffix}-${stamp}`, JSON.stringify(metrics)],
      );
      seeded.push({ name: model[0].name, version: model[0].version, snapshot, cells: set.cells, accuracy: `${(set.accuracy * 100).toFixed(1)}%` });
    }
  } finally {
    await db.end();
  }
});

test("each version's test figures name their snapshot and TEST cell count", async ({ page }) => {
  await login(page, "ds");
  await page.goto("/models");
  await expect(page.getByTestId("model-versions")).toBeVisible();
  for (const m of seeded) {
    const row = page.locator(`[data-testid="model-row"][data-model="${m.name}@${m.version}"]`);
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(m.accuracy);
    const testSet = row.getByTestId("model-test-set");
    await expect(testSet).toHaveText(`${m.snapshot} · ${m.cells} TEST cells`);
    await expect(testSet).toHaveAttribute("data-snapshot", m.snapshot);
    await expect(testSet).toHaveAttribute("data-cells", String(m.cells));
  }
  // Two rows measured on different TEST parts: the page says their figures do not compare.
  await expect(page.getByTestId("model-test-sets-differ")).toContainText("different test sets");
});
