// graphql-codegen: resolver types from the module schemas, into the ignored src/generated/.
// Run: npm run generate -w @rcmnet/api (turbo runs it before typecheck and test).
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "src/modules/*/schema.graphql",
  generates: {
    "src/generated/graphql.ts": {
      plugins: ["typescript", "typescript-resolvers"],
      config: {
        useTypeImports: true,
        contextType: "../context.ts#Context",
        enumsAsTypes: true,
        // Resolvers may return Prisma rows; field resolvers fill in the rest.
        mappers: {
          User: "@rcmnet/db#User as UserRow",
          Case: "@rcmnet/db#Case as CaseRow",
          Slide: "@rcmnet/db#Slide as SlideRow",
          Cell: "@rcmnet/db#Cell as CellRow",
          Prediction: "@rcmnet/db#Prediction as PredictionRow",
          Review: "@rcmnet/db#Review as ReviewRow",
          SignOff: "@rcmnet/db#SignOff as SignOffRow",
          AuditEvent: "@rcmnet/db#AuditEvent as AuditEventRow",
          CellConnection: "../modules/cases/listCells.ts#CellPage",
          AuthPayload: "../modules/auth/login.ts#LoginResult",
          // Jobs engineer's modules (models, training, jobs).
          ModelVersion: "@rcmnet/db#ModelVersion as ModelVersionRow",
          ModelPromotion: "@rcmnet/db#ModelPromotion as ModelPromotionRow",
          DatasetSnapshot: "../modules/training/createDatasetSnapshot.ts#SnapshotAnswer as DatasetSnapshotRow",
          TrainingRun: "@rcmnet/db#TrainingRun as TrainingRunRow",
          JobProgress: "@rcmnet/db#Job as JobRow",
        },
        scalars: { DateTime: "Date", JSON: "unknown", ID: "string" },
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
        maybeValue: "T | null",
        inputMaybeValue: "T | null | undefined",
      },
    },
  },
};

export default config;
