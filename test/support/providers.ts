// The avatar services every end-to-end conversation test runs against (each behind its own broker
// in the e2e plugin's offline world). No imports: browser tests and the Node plugin both use it.
export const AVATAR_PROVIDERS = ['heygen-streaming', 'liveavatar'] as const;
export type AvatarProviderName = (typeof AVATAR_PROVIDERS)[number];
