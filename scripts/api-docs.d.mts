/** The parts of custom-elements.json (schema 1.0.0) the scripts and tests read. */
export interface ManifestEntry {
  name: string;
  description?: string;
  type?: { text: string };
  default?: string;
}
export interface ManifestMember extends ManifestEntry {
  kind: 'field' | 'method';
  readonly?: boolean;
  attribute?: string;
  privacy?: string;
  parameters?: ManifestEntry[];
  return?: { type?: { text: string } };
}
export interface ManifestElement {
  name: string;
  tagName: string;
  customElement: true;
  summary?: string;
  attributes: (ManifestEntry & { fieldName?: string })[];
  members: ManifestMember[];
  events: ManifestEntry[];
  slots: ManifestEntry[];
  cssParts: ManifestEntry[];
  cssProperties: ManifestEntry[];
}
export interface Manifest {
  schemaVersion: string;
  modules: {
    path: string;
    declarations?: ({ name: string; kind: string } | ManifestElement)[];
    exports?: { kind: string; name: string; declaration: { name: string; module?: string } }[];
  }[];
}
export declare const README: string;
export declare const MANIFEST: string;
export declare function elementOf(manifest: Manifest): ManifestElement;
export declare function attributeTable(element: ManifestElement): string;
export declare function apiTables(element: ManifestElement): string;
export declare function updateReadme(text: string, manifest: Manifest): string;
