export declare const chromiumPath: string | undefined;
export declare const fakeMicWav: string;
export declare const chromiumArgs: string[];
