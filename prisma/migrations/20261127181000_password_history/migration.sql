-- The hashes of a user's previous passwords (newest first, a few kept): a new password of the
-- owner's may be none of them, so that A -> B -> A does not renew an old password.
-- AlterTable
ALTER TABLE "user" ADD COLUMN     "passwordHistory" TEXT[] DEFAULT ARRAY[]::TEXT[];
