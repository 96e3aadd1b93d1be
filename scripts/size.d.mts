export interface FileSize { name: string; bytes: number; gzip: number }
export declare const BUDGETS: { upFront: number; session: number };
export declare const PROVIDERS: string[];
export declare const LAZY_LANGUAGES: string[];
export declare function measureBundle(): { upFront: FileSize; chunks: FileSize[]; languageChunks: FileSize[]; sessions: Record<string, number>; session: number };
