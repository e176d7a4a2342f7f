-- Hand-written; the schema is unchanged. What the technician typed at upload (stain,
-- magnification) and the file's type are part of what a slide IS, as its name and size already are
-- (20261127220738_slide_original_name): never changed after the upload, for every writer. The
-- slide.upload event records them too (uploadSlides.ts), so the trail holds the operator's entries.
DROP TRIGGER slide_identity ON "slide";
CREATE TRIGGER slide_identity BEFORE UPDATE ON "slide" FOR EACH ROW
  WHEN (OLD."caseId" IS DISTINCT FROM NEW."caseId" OR OLD."imageSha256" IS DISTINCT FROM NEW."imageSha256"
     OR (OLD."pixelSha256" IS NOT NULL AND OLD."pixelSha256" IS DISTINCT FROM NEW."pixelSha256")
     OR OLD."kind" IS DISTINCT FROM NEW."kind" OR OLD."width" IS DISTINCT FROM NEW."width" OR OLD."height" IS DISTINCT FROM NEW."height"
     OR OLD."originalName" IS DISTINCT FROM NEW."originalName"
     OR OLD."stain" IS DISTINCT FROM NEW."stain" OR OLD."magnification" IS DISTINCT FROM NEW."magnification"
     OR OLD."mimeType" IS DISTINCT FROM NEW."mimeType"
     OR OLD."uploadedById" IS DISTINCT FROM NEW."uploadedById" OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt")
  EXECUTE FUNCTION refuse_identity_change();
