-- AlterTable
ALTER TABLE "slide" ADD COLUMN     "pixelSha256" TEXT;

-- CreateIndex
CREATE INDEX "slide_caseId_pixelSha256_idx" ON "slide"("caseId", "pixelSha256");

-- What a slide IS never changes, its pixel hash included once set (a slide stored before the hash
-- was recorded may be given it, when its image is uploaded again, but never another).
DROP TRIGGER slide_identity ON "slide";
CREATE TRIGGER slide_identity BEFORE UPDATE ON "slide" FOR EACH ROW
  WHEN (OLD."caseId" IS DISTINCT FROM NEW."caseId" OR OLD."imageSha256" IS DISTINCT FROM NEW."imageSha256"
     OR (OLD."pixelSha256" IS NOT NULL AND OLD."pixelSha256" IS DISTINCT FROM NEW."pixelSha256")
     OR OLD."kind" IS DISTINCT FROM NEW."kind" OR OLD."width" IS DISTINCT FROM NEW."width" OR OLD."height" IS DISTINCT FROM NEW."height"
     OR OLD."uploadedById" IS DISTINCT FROM NEW."uploadedById" OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
