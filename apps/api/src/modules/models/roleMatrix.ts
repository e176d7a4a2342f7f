import type { MatrixCase } from "../../testing/roleMatrix.ts";

export const matrixCases: MatrixCase[] = [
  {
    mutation: "registerModel",
    query: `mutation($p: String!) { registerModel(path: $p) { id } }`,
    variables: () => ({ p: "no-such-model-dir" }),
  },
  {
    mutation: "proposePromotion",
    query: `mutation($id: ID!) { proposePromotion(modelVersionId: $id, reason: "matrix") { id } }`,
    variables: (fx) => ({ id: fx.missingId }),
  },
  {
    mutation: "decidePromotion",
    query: `mutation($id: ID!) { decidePromotion(id: $id, approve: true, note: "matrix") { id } }`,
    variables: (fx) => ({ id: fx.missingId }),
  },
  {
    mutation: "proposeRollback",
    query: `mutation($id: ID) { proposeRollback(reason: "matrix", modelVersionId: $id) { id } }`,
    variables: (fx) => ({ id: fx.missingId }),
  },
  {
    mutation: "rerunReprediction",
    query: `mutation($id: ID!) { rerunReprediction(modelVersionId: $id, reason: "matrix") { id } }`,
    variables: (fx) => ({ id: fx.missingId }),
  },
];
