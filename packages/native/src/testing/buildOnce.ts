import { buildAddon } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  // A failure is not fatal: the native suites then skip and say why.
  await buildAddon().catch(() => undefined);
}
