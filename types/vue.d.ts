// Template typings for Vue 3 (vue-tsc / Volar): `<heygen-avatar>` in `GlobalComponents`, the way
// Vue's guide types custom elements: its properties as props (every attribute's, in kebab-case in
// templates, plus `llm` and `tokenProvider`) and its events for `@heygen-avatar:turn="…"` with a
// typed `$event`.
// Use: `import type {} from 'heygen-avatar/vue';` once, or add "heygen-avatar/vue" to
// compilerOptions.types. The compiler must know the tag is a custom element:
// `vue({ template: { compilerOptions: { isCustomElement: (tag) => tag === 'heygen-avatar' } } })`.
import type { EmitFn, HTMLAttributes, PublicProps } from 'vue';
import type { HeygenAvatar, HeygenAvatarEventDetails } from '../dist/npm/index.js';
import type { HeygenAvatarAttributeProperty } from '../dist/types/attributes.js';

type HeygenAvatarEmit = EmitFn<{
  [Name in keyof HeygenAvatarEventDetails]: (event: CustomEvent<HeygenAvatarEventDetails[Name]>) => void;
}>;

declare module 'vue' {
  interface GlobalComponents {
    'heygen-avatar': new () => HeygenAvatar & {
      /** @deprecated For template type checking only: not on the element. */
      $props: HTMLAttributes & Partial<Pick<HeygenAvatar, HeygenAvatarAttributeProperty | 'llm' | 'tokenProvider'>> & PublicProps;
      /** @deprecated For template type checking only: not on the element. */
      $emit: HeygenAvatarEmit;
    };
  }
}
