// UI strings: one file per language in ./strings/ (so a contributor can correct one), chosen from
// the conversation language with a fallback chain (`pt-BR` → `pt` → `en`), with the page's
// overrides (the `strings` property or JSON attribute) on top. English (the fallback) is in the
// up-front script; every other language is a small chunk loaded when a widget first needs it, and
// the widget holds its render until then (`stringsPending`), so it never shows English first.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import en from './strings/en.js';

export interface UiStrings {
  start: string;
  stop: string;
  mute: string;
  unmute: string;
  muteLabel: string;
  unmuteLabel: string;
  send: string;
  typeHere: string;
  enableSound: string;
  you: string;
  avatar: string;
  captions: string;
  micLevel: string;
  holdToTalk: string;
  /** The status line while the session runs without a microphone. */
  textMode: string;
  timeUp: string;
  endingSoon(seconds: number): string;
  states: Record<'idle' | 'connecting' | 'listening' | 'thinking' | 'speaking' | 'ended' | 'error', string>;
  errors: {
    tokenEndpoint: string;
    microphone: string;
    microphoneDenied: string;
    avatar: string;
    transcriber: string;
    llm: string;
    livekit: string;
    load: string;
    session: string;
    unsupported: string;
  };
}

/** A language's strings as its file lists them: text only, `{seconds}` where the number goes. */
export type UiStringTable = { [K in keyof UiStrings]: UiStrings[K] extends (seconds: number) => string ? string : UiStrings[K] };

/**
 * What a page may override (the `strings` property; the attribute as JSON): any string, `states`
 * and `errors` key by key; `endingSoon` as text with `{seconds}` (or, from script, a function).
 */
export type UiStringOverrides = {
  [K in keyof UiStrings]?: K extends 'states' | 'errors' ? Partial<UiStrings[K]> : K extends 'endingSoon' ? string | UiStrings[K] : UiStrings[K];
};

type Table = UiStringTable | Partial<UiStringTable>;

/** The languages with a strings file besides English (built in), loaded when needed; Russian, the default, first. */
const LAZY: Record<string, () => Promise<{ default: Table }>> = {
  ru: () => import('./strings/ru.js'),
  ar: () => import('./strings/ar.js'),
  de: () => import('./strings/de.js'),
  es: () => import('./strings/es.js'),
  fr: () => import('./strings/fr.js'),
  he: () => import('./strings/he.js'),
  it: () => import('./strings/it.js'),
  ja: () => import('./strings/ja.js'),
  pl: () => import('./strings/pl.js'),
  pt: () => import('./strings/pt.js'),
  tr: () => import('./strings/tr.js'),
  uk: () => import('./strings/uk.js'),
  zh: () => import('./strings/zh.js'),
};
export const UI_LANGUAGES: readonly string[] = ['en', ...Object.keys(LAZY)];
/** Languages written right to left: the widget lays out right to left in them. */
const RTL = new Set(['ar', 'he']);

/** Loaded tables, shared by every widget on the page. */
const tables = new Map<string, Table>([['en', en]]);
const loading = new Map<string, Promise<void>>();
/** Languages a widget has already held its render for (loaded, failed or too slow): never held again. */
const waited = new Set<string>();
/** How long a widget holds its render for its language's strings before it shows English (and switches once they arrive). */
const STRINGS_WAIT_MS = 3000;

/** The UI language for a BCP-47 tag: the whole tag if it has a file, else its language, else English. */
export function uiLanguage(tag: string): string {
  const lower = tag.toLowerCase();
  return [lower, lower.split('-')[0]].find((candidate) => UI_LANGUAGES.includes(candidate)) ?? 'en';
}

/** Loads `language`'s table (a no-op for the built-in ones and for one already loaded). */
export function loadUiStrings(language: string): Promise<void> {
  if (tables.has(language) || !LAZY[language]) return Promise.resolve();
  let promise = loading.get(language);
  if (!promise) {
    promise = LAZY[language]().then(
      (module) => void tables.set(language, module.default),
      (err: unknown) => {
        loading.delete(language);
        throw err;
      },
    );
    loading.set(language, promise);
  }
  return promise;
}

/**
 * While the strings for the language of `tag` are still to load: a promise that settles once they
 * are in (or failed, or after 3 s), for the element to hold its render until then. Undefined when
 * there is nothing to wait for.
 */
export function stringsPending(tag: string): Promise<void> | undefined {
  const language = uiLanguage(tag);
  if (tables.has(language) || waited.has(language) || !LAZY[language]) return undefined;
  const late = new Promise<void>((resolve) => setTimeout(resolve, STRINGS_WAIT_MS));
  return Promise.race([loadUiStrings(language).catch(() => undefined), late]).then(() => void waited.add(language));
}

/** `language`'s strings (English where its table is not loaded or leaves a key out), with `overrides` on top. */
export function composeStrings(language: string, overrides: UiStringOverrides = {}): UiStrings {
  const table = tables.get(language) ?? {};
  const { endingSoon: ending = table.endingSoon ?? en.endingSoon, ...rest } = overrides;
  return {
    ...en,
    ...table,
    ...rest,
    states: { ...en.states, ...table.states, ...overrides.states },
    errors: { ...en.errors, ...table.errors, ...overrides.errors },
    endingSoon: typeof ending === 'function' ? ending : (seconds) => ending.replace('{seconds}', String(seconds)),
  } as UiStrings;
}

/**
 * Checks a page's overrides: keeps the strings it knows, and says what it drops (unknown keys,
 * values that are not text) so a typo does not go unnoticed.
 */
export function checkOverrides(value: unknown): { overrides: UiStringOverrides; problems: string[] } {
  if (value === null || value === undefined) return { overrides: {}, problems: [] };
  const problems: string[] = [];
  const pick = (source: unknown, reference: object, path: string): Record<string, unknown> => {
    if (typeof source !== 'object' || source === null || Array.isArray(source)) {
      problems.push(`${path} must be an object of strings, got ${Array.isArray(source) ? 'an array' : typeof source}; ignored`);
      return {};
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(source)) {
      const known = Object.hasOwn(reference, key);
      const ref = (reference as Record<string, unknown>)[key];
      if (!known) problems.push(`${path}: unknown key "${key}" ignored; known keys: ${Object.keys(reference).join(', ')}`);
      else if (typeof ref === 'object') out[key] = pick(v, ref as object, `${path}.${key}`);
      else if (typeof v === 'string' || (key === 'endingSoon' && typeof v === 'function')) out[key] = v;
      else problems.push(`${path}.${key} must be a string, got ${typeof v}; ignored`);
    }
    return out;
  };
  return { overrides: pick(value, en, 'strings') as UiStringOverrides, problems };
}

/** The `strings` attribute: JSON, or the text itself when it is not (the check then says so). */
export const stringsAttribute = {
  fromAttribute(value: string | null): unknown {
    if (value === null) return null;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return new InvalidJson(value);
    }
  },
};

class InvalidJson {
  constructor(readonly text: string) {}
}

/**
 * The element's UI strings: follows the conversation language (loading its table when needed) and
 * the page's overrides, and sets the host's `dir` to the language's direction unless the page set it.
 */
export class UiStringsController implements ReactiveController {
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #report: (problem: string) => void;
  #language = 'en';
  #overrides: UiStringOverrides = {};
  #strings: UiStrings | undefined;
  /** The `dir` this controller put on the host (a page's own `dir` is left alone). */
  #dir: string | undefined;
  /** Problems with the overrides, reported at the next update (when the host is in the page to dispatch from). */
  #problems: string[] = [];

  constructor(host: ReactiveControllerHost & HTMLElement, report: (problem: string) => void) {
    this.#host = host;
    this.#report = report;
    host.addController(this);
  }

  /** The UI language in use (`en`, `ru`, `pt`…). */
  get language(): string {
    return this.#language;
  }

  /** Follows a conversation language (BCP-47); the strings change once its table has loaded. */
  set language(tag: string) {
    const language = uiLanguage(tag);
    if (language === this.#language) return;
    this.#language = language;
    this.#strings = undefined;
    loadUiStrings(language).then(
      () => {
        if (this.#language !== language) return;
        this.#strings = undefined;
        this.#host.requestUpdate();
      },
      () => this.#report(`the UI strings for "${language}" could not be loaded; showing English`),
    );
  }

  /** Sets the page's overrides (from the property, or the attribute's JSON); reports what it drops. */
  set overrides(value: unknown) {
    if (value instanceof InvalidJson) {
      this.#problems.push(`strings attribute is not JSON (${value.text.slice(0, 40)}…); ignored`);
      value = null;
    }
    const { overrides, problems } = checkOverrides(value);
    this.#overrides = overrides;
    this.#strings = undefined;
    this.#problems.push(...problems);
    this.#host.requestUpdate();
  }

  get strings(): UiStrings {
    return (this.#strings ??= composeStrings(this.#language, this.#overrides));
  }

  get direction(): 'ltr' | 'rtl' {
    return RTL.has(this.#language) ? 'rtl' : 'ltr';
  }

  hostUpdate(): void {
    for (const problem of this.#problems.splice(0)) this.#report(problem);
    const host = this.#host;
    if (host.hasAttribute('dir') && host.getAttribute('dir') !== this.#dir) return;
    this.#dir = this.direction;
    if (host.getAttribute('dir') !== this.#dir) host.setAttribute('dir', this.#dir);
  }
}
