-- AlterTable
ALTER TABLE "model_version" ADD COLUMN     "folderSha256" TEXT;
