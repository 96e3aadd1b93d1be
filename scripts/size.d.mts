export interface FileSize { name: string; bytes: number; gzip: number }
export declare const BUDGETS: { upFront: number; session: number };
export declare function measureBundle(): { upFront: FileSize; chunks: FileSize[]; session: number };
