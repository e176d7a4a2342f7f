-- AlterTable
ALTER TABLE "model_promotion" ADD COLUMN     "replacesChampionId" UUID;
