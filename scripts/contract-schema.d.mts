export const SCHEMA_FILE: string;
export function contractSchemaText(): string;
