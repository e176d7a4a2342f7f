-- A gallery group's button confirms its cells as a bulk confirmation however many they are: its
-- last confident cell is a group of one (confirmCells' asGroup, 2026-11-28). Recorded with
-- bulkSize 1, which the CHECK of bulk_confirmed_labels refused (it read "bulk" as "several
-- cells in one request"); a bulk size still belongs to a confirmation only.
ALTER TABLE "review" DROP CONSTRAINT "review_bulk_size";
ALTER TABLE "review" ADD CONSTRAINT "review_bulk_size" CHECK ("bulkSize" IS NULL OR ("bulkSize" >= 1 AND "action" = 'CONFIRM'));
