// JSX typings for React 19: `<heygen-avatar>` in `JSX.IntrinsicElements`, with its attributes
// (kebab-case, as strings: they render on the server too) and the properties a page sets from
// code (`llm`, `tokenProvider`: React 19 assigns them as properties on the element).
// Use: `import type {} from 'heygen-avatar/react';` once, or add "heygen-avatar/react" to
// compilerOptions.types. Events: `ref.current.addEventListener('heygen-avatar:turn', …)`, typed.
import type { DetailedHTMLProps, HTMLAttributes } from 'react';
import type { HeygenAvatar } from '../dist/npm/index.js';
import type { HeygenAvatarAttributes } from '../dist/types/attributes.js';

/** The props of `<heygen-avatar>` in JSX. */
export type HeygenAvatarJsxProps = DetailedHTMLProps<HTMLAttributes<HeygenAvatar>, HeygenAvatar> &
  HeygenAvatarAttributes &
  Partial<Pick<HeygenAvatar, 'llm' | 'tokenProvider'>>;

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'heygen-avatar': HeygenAvatarJsxProps;
    }
  }
}
