/** Entry point for bin/rcmnet.js (kept apart from cli.ts so tests can import `main`). */
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
