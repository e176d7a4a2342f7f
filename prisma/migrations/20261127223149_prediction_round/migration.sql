-- DropIndex
DROP INDEX "prediction_cellId_modelVersionId_key";

-- AlterTable
ALTER TABLE "prediction" ADD COLUMN     "round" INTEGER NOT NULL DEFAULT 1;

-- CreateIndex
CREATE UNIQUE INDEX "prediction_cellId_modelVersionId_round_key" ON "prediction"("cellId", "modelVersionId", "round");

-- Hand-written: rounds count from 1.
ALTER TABLE "prediction" ADD CONSTRAINT "prediction_round_positive" CHECK ("round" >= 1);
