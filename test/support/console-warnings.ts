// Collects console.warn lines instead of printing them, for tests of the element's warnings.

/** Starts collecting; `restore()` puts console.warn back. */
export function warnings(): { seen: string[]; restore: () => void } {
  const seen: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    seen.push(args.map(String).join(' '));
  };
  return { seen, restore: () => (console.warn = original) };
}
