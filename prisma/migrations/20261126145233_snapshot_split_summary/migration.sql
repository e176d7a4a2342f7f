-- AlterTable
ALTER TABLE "dataset_snapshot" ADD COLUMN     "splitSummary" JSONB;
