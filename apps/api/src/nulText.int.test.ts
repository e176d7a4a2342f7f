// A NUL character (U+0000) in any text the API receives is refused as bad input with the field
// named, nothing stored; before, PostgreSQL refused it and the caller got an internal error.
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nulAt } from "./lib/nulText.ts";
import { createTestApi, type TestApi } from "./testing/index.ts";
import { databaseFingerprint } from "./testing/fixtures.ts";

let api: TestApi;
let tech: string;
let caseId: string;
beforeAll(async () => {
  api = await createTestApi();
  tech = await api.loginAs("TECHNICIAN");
  caseId = (await api.gqlOk(tech, `mutation { createCase(input: { accession: "NUL-0" }) { id } }`)).createCase.id;
});
afterAll(() => api?.close());

const CREATE = `mutation($i: CreateCaseInput!) { createCase(input: $i) { id } }`;

describe("text holding U+0000", () => {
  it("finds the first string holding it, with its path", () => {
    expect(nulAt({ input: { caseId: "x", reason: "a\u0000b" } })).toBe("input.reason");
    expect(nulAt({ cells: [{ reason: "ok" }, { reason: "\u0000" }] })).toBe("cells.1.reason");
    expect(nulAt("\u0000")).toBe("(value)");
    expect(nulAt({ a: "no", b: 3, c: null, d: ["x"] })).toBeNull();
  });

  it("is refused in GraphQL variables and literals as bad input, nothing stored", async () => {
    const before = await databaseFingerprint(api.prisma);
    const inVariable = await api.gql(tech, CREATE, { i: { accession: "NUL-1", patientRef: "MRN\u00001" } });
    expect(inVariable.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(inVariable.errors?.[0]?.message).toBe("Variable i.patientRef contains the NUL character (U+0000), which no field may hold: nothing was changed");
    const inLiteral = await api.gql(tech, `mutation { createCase(input: { accession: "NUL-2", patientRef: "MRN\\u00002" }) { id } }`);
    expect(inLiteral.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(inLiteral.errors?.[0]?.message).toMatch(/^A string in the operation contains the NUL character/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
    // The same text without it goes through.
    await api.gqlOk(tech, CREATE, { i: { accession: "NUL-3", patientRef: "MRN 3" } });
  });

  it("is refused in REST query parameters and upload fields as bad input, nothing stored", async () => {
    const auditor = await api.loginAs("AUDITOR");
    const before = await databaseFingerprint(api.prisma);
    const csv = await api.fetch(`/audit.csv?action=${encodeURIComponent("case.create\u0000")}`, { token: auditor });
    expect(csv.status).toBe(400);
    expect(((await csv.json()) as any).errors[0].message).toMatch(/^Query parameter action contains the NUL character/);
    const form = new FormData();
    form.append("stain", "Wright\u0000-Giemsa");
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#8040a0" } }).png().toBuffer();
    form.append("files", new Blob([new Uint8Array(png)]), "field.png");
    const upload = await api.fetch(`/uploads/slides?caseId=${caseId}`, { method: "POST", body: form, token: tech });
    expect(upload.status).toBe(400);
    expect(((await upload.json()) as any).errors[0].message).toMatch(/^Field stain contains the NUL character/);
    expect(await databaseFingerprint(api.prisma)).toEqual(before);
  });
});
