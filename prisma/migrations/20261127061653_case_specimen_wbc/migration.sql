-- AlterTable
ALTER TABLE "case" ADD COLUMN     "collectedAt" TIMESTAMP(3),
ADD COLUMN     "specimen" TEXT,
ADD COLUMN     "wbcCount" DOUBLE PRECISION;

-- Hand-written: a white-cell count is a positive number of ×10⁹/L, far under 1,000 even in
-- leukaemia; anything else is a typo the report would multiply into absolute counts.
ALTER TABLE "case" ADD CONSTRAINT "case_wbc_count_range" CHECK ("wbcCount" IS NULL OR ("wbcCount" > 0 AND "wbcCount" <= 1000));
