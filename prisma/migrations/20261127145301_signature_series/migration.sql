-- AlterTable
ALTER TABLE "api_session" ADD COLUMN     "signatureSeriesAt" TIMESTAMP(3);
