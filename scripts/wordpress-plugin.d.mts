export const PLUGIN_DIR: string;
export function bundleWidget(): string[];
