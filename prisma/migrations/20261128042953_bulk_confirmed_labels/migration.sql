-- Which human labels are bulk confirmations of AI calls (2026-11-28). A hematologist may confirm
-- many confident AI calls at once; the audit event of each says so (`bulk`: how many), the review
-- row did not. A TEST label that is a bulk confirmation of the champion's own call is weaker
-- evidence than one decided cell by cell (it favours the model that made the call), and how much
-- of a snapshot's TEST part is like that could not be told.
-- "review"."bulkSize": how many cells the same request confirmed (2 or more), written by
-- confirmCells; null for a decision made alone or a reclassification. "dataset_item"."bulkConfirmed":
-- whether the frozen label's deciding review was such a confirmation, written by
-- createDatasetSnapshot.
-- Both tables are append-only (review_append_only, dataset_item_append_only: UPDATE and DELETE
-- refused), so rows already there stay null and are never backfilled: reviews recorded before keep
-- their `bulk` in the audit trail (where createDatasetSnapshot reads it), and items of snapshots
-- taken before are "not recorded". Adding a column without a default fires no row trigger, and the
-- insert triggers on review (review_not_on_signed_case, review_not_on_voided_slide) read only
-- "cellId": new rows with the columns pass as before.

-- AlterTable
ALTER TABLE "review" ADD COLUMN     "bulkSize" INTEGER;

-- AlterTable
ALTER TABLE "dataset_item" ADD COLUMN     "bulkConfirmed" BOOLEAN;

-- A bulk size belongs to a confirmation made with at least one other cell.
ALTER TABLE "review" ADD CONSTRAINT "review_bulk_size" CHECK ("bulkSize" IS NULL OR ("bulkSize" >= 2 AND "action" = 'CONFIRM'));
