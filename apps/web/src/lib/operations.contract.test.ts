// The API's schema files are the contract between the dashboard and the API: every operation the
// dashboard sends must validate against them, so a renamed field fails here, not in a browser.
import { loadTypeDefs } from "@rcmnet/api/schema";
import { buildASTSchema, concatAST, parse, validate } from "graphql";
import { describe, expect, it } from "vitest";
import * as operations from "./operations";

const schema = buildASTSchema(concatAST(loadTypeDefs().map((sdl) => parse(sdl))));
const documents: [string, string][] = Object.entries(operations as Record<string, unknown>).flatMap(([name, value]) =>
  typeof value === "string" && /^\s*(query|mutation)\b/.test(value) ? [[name, value] as [string, string]] : [],
);

describe("dashboard operations", () => {
  it("are found", () => {
    expect(documents.length).toBeGreaterThan(20);
  });
  it.each(documents)("%s validates against the API schema", (_name, document) => {
    expect(validate(schema, parse(document)).map((e) => e.message)).toEqual([]);
  });
});
