import type { MatrixCase } from "../../testing/roleMatrix.ts";

export const matrixCases: MatrixCase[] = [
  {
    mutation: "createDatasetSnapshot",
    query: `mutation { createDatasetSnapshot(name: "matrix") { id } }`,
    variables: () => ({}),
  },
  {
    mutation: "startTrainingRun",
    query: `mutation($id: ID!) { startTrainingRun(snapshotId: $id, config: { epochs: 1 }) { id } }`,
    variables: (fx) => ({ id: fx.missingId }),
  },
  {
    mutation: "cancelTrainingRun",
    query: `mutation($id: ID!) { cancelTrainingRun(id: $id, reason: "matrix") { id } }`,
    variables: (fx) => ({ id: fx.missingId }),
  },
];
