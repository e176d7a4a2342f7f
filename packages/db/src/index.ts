export * from "./generated/prisma/client.ts";
export { createPrismaClient, getPrismaClient } from "./client.ts";
export { openDatabase, type OpenDatabase, type OpenDatabaseOptions } from "./openDatabase.ts";
export { startEmbeddedPostgres, type EmbeddedPostgres } from "./embedded.ts";
export { applyMigrations, MigrationError } from "./migrations/applyMigrations.ts";
export {
  ALLOW_OWNER_ROLE_VAR,
  auditTrailWriteAccess,
  checkPlatformRole,
  EMBEDDED_DATABASE_VAR,
  grantAppRole,
  PlatformRoleError,
  WORKFLOW_TABLES,
  type AuditTrailWriteAccess,
} from "./appRole.ts";
export { BlobStore, BlobCorruptError, BlobNotFoundError, sha256Hex } from "./blobStore.ts";
export {
  AuditChainVerifier,
  anchorFileStarted,
  anchorGraceMinutes,
  checkAnchorFile,
  DEFAULT_ANCHOR_MINUTES,
  verifyAuditChain,
  type AnchorFileCheck,
  type AnchorRecency,
  type AuditChainStatus,
  type AuditVerification,
} from "./audit.ts";
export {
  ANCHOR_FILE_STARTED,
  ANCHOR_TAIL_BYTES,
  formatAnchorLine,
  MAX_ANCHOR_MINUTES,
  parseAnchorFile,
  parseAnchorLine,
  readAnchorFile,
  type AnchorFileEnd,
  type AnchorFileReading,
  type AuditAnchor,
  type FiledAuditAnchor,
} from "./auditAnchorFile.ts";
export { repoRoot, defaultDataDir } from "./paths.ts";
