-- AlterTable
ALTER TABLE "slide" ADD COLUMN     "originalName" TEXT;

-- Hand-written: the name is what the uploader's file was called, recorded once. A name that says
-- nothing is no name, and a bounded one keeps a crafted upload from storing a page of text.
ALTER TABLE "slide" ADD CONSTRAINT "slide_original_name_shape" CHECK (
  "originalName" IS NULL OR (char_length("originalName") BETWEEN 1 AND 200 AND btrim("originalName") <> '')
);

-- Part of what a slide IS: never changed after the upload (an image uploaded again after a failed
-- analysis is the same slide and keeps its first name).
DROP TRIGGER slide_identity ON "slide";
CREATE TRIGGER slide_identity BEFORE UPDATE ON "slide" FOR EACH ROW
  WHEN (OLD."caseId" IS DISTINCT FROM NEW."caseId" OR OLD."imageSha256" IS DISTINCT FROM NEW."imageSha256"
     OR (OLD."pixelSha256" IS NOT NULL AND OLD."pixelSha256" IS DISTINCT FROM NEW."pixelSha256")
     OR OLD."kind" IS DISTINCT FROM NEW."kind" OR OLD."width" IS DISTINCT FROM NEW."width" OR OLD."height" IS DISTINCT FROM NEW."height"
     OR OLD."originalName" IS DISTINCT FROM NEW."originalName"
     OR OLD."uploadedById" IS DISTINCT FROM NEW."uploadedById" OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
