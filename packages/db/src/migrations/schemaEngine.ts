// Loads Prisma's schema engine (migration diffing) compiled to WebAssembly.
// Why: the Prisma CLI downloads a native engine on every command, which fails on air-gapped
// hospital networks (and here). The wasm build ships inside an npm package, so creating
// migrations needs nothing beyond `npm install`. The package targets bundlers
// (`import * as wasm from "./x.wasm"`), which Node cannot load, so we instantiate it by hand.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { SchemaEngine as SchemaEngineType } from "@prisma/schema-engine-wasm";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";

const require = createRequire(import.meta.url);

/** The slice of the global WebAssembly API used here (Node's types do not declare it). */
const wasmRuntime = (globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: object): Promise<{ instance: { exports: unknown } }> };
}).WebAssembly;

let loaded: Promise<typeof SchemaEngineType> | undefined;

export function loadSchemaEngine(): Promise<typeof SchemaEngineType> {
  loaded ??= (async () => {
    // The wasm file is not in the package's exports map: locate it beside the glue module.
    const gluePath = require.resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const wasmPath = join(dirname(gluePath), "schema_engine_bg.wasm");
    const bytes = await readFile(wasmPath);
    const { instance } = await wasmRuntime.instantiate(bytes, { "./schema_engine_bg.js": glue });
    const exports = instance.exports as { __wbindgen_start?: () => void };
    (glue as unknown as { __wbg_set_wasm(w: unknown): void }).__wbg_set_wasm(exports);
    exports.__wbindgen_start?.();
    return (glue as unknown as { SchemaEngine: typeof SchemaEngineType }).SchemaEngine;
  })();
  return loaded;
}
