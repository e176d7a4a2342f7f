// Teardown helper (tsx): drops the e2e database created by prepare.ts.
import pg from "pg";
import { testServerUrl } from "@rcmnet/db/testing";

const name = process.argv[2];
if (!name || !/^rcmnet_test_[0-9a-f]+$/.test(name)) throw new Error(`refusing to drop ${String(name)}`);
const client = new pg.Client({ connectionString: testServerUrl });
await client.connect();
await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
await client.end();
