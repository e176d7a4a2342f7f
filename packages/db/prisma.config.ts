// Prisma CLI configuration (Prisma 7 keeps the datasource here, not in the schema).
// Only `prisma generate` is run through the CLI: migrations are created and applied by
// src/migrations/*, which work offline (see docs/decisions.md).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "../../prisma/schema.prisma",
  migrations: { path: "../../prisma/migrations" },
});
