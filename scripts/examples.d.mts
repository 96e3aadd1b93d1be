export declare const EXAMPLES: string[];
export declare function npm(cwd: string, args: string[], env?: Record<string, string>): string;
export declare function packPackage(dest?: string): string;
export declare function exampleCopy(name: string): string;
export declare function installExample(name: string, tarball: string): string;
export declare function buildExample(dir: string): string;
