// Schema composition: every module under src/modules/<name>/ contributes a schema.graphql and a
// resolvers.ts exporting `resolvers` and `policy`. Adding a module needs no edit here.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { assertPolicyCoversSchema, authorize, mergePolicies, type Policy } from "./auth/policy.ts";
import type { Context } from "./context.ts";

export const modulesDir = join(dirname(fileURLToPath(import.meta.url)), "modules");

export interface ModuleExports {
  // Resolver maps are checked by their generated types inside each module.
  resolvers?: Record<string, unknown>;
  policy?: Policy;
}

export function moduleNames(): string[] {
  return readdirSync(modulesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(modulesDir, d.name, "schema.graphql")))
    .map((d) => d.name)
    .sort();
}

export function loadTypeDefs(): string[] {
  return moduleNames().map((name) => readFileSync(join(modulesDir, name, "schema.graphql"), "utf8"));
}

export async function loadModules(): Promise<ModuleExports[]> {
  const mods: ModuleExports[] = [];
  for (const name of moduleNames()) {
    const file = join(modulesDir, name, "resolvers.ts");
    if (existsSync(file)) mods.push((await import(pathToFileURL(file).href)) as ModuleExports);
  }
  return mods;
}

export interface BuiltSchema {
  schema: GraphQLSchema;
  policy: Policy;
}

export async function buildSchema(): Promise<BuiltSchema> {
  const mods = await loadModules();
  const policy = mergePolicies(mods.map((m) => m.policy ?? {}));
  const schema = makeExecutableSchema({
    typeDefs: loadTypeDefs(),
    resolvers: mods.map((m) => m.resolvers ?? {}) as never,
  });
  assertPolicyCoversSchema(schema, policy);
  wrapRootFieldsWithAuthorization(schema, policy);
  return { schema, policy };
}

/** Every Query/Mutation field checks the policy before its resolver runs (even a missing resolver). */
function wrapRootFieldsWithAuthorization(schema: GraphQLSchema, policy: Policy): void {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const operation = `${type.name}.${field.name}`;
      const resolve = (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, Context>;
      field.resolve = (source, args, ctx: Context, info) => {
        authorize(policy, operation, ctx);
        return resolve(source, args, ctx, info);
      };
    }
  }
}
