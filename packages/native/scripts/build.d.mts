export const buildDir: string;
export function addonPath(): string;
export function buildAddon(): Promise<string>;
export function missingPrerequisite(): string | null;
