// Avatar providers by name. The session answer's `avatar.provider` picks one; its code loads then,
// as its own chunk, so a page only ever downloads the provider it uses. A page (or a test) adds a
// provider of its own with registerAvatarProvider; nothing else changes.
import { LoadError, SessionEndpointError } from '../shared/errors.js';
import type { AvatarProviderModule } from './provider.js';

type ProviderLoader = () => Promise<AvatarProviderModule>;

const providers = new Map<string, ProviderLoader>([
  ['liveavatar', () => import('./liveavatar.js')],
  ['heygen-streaming', () => import('./heygen-streaming.js')],
]);

/**
 * Registers an avatar provider under `name` (what a session answer's `avatar.provider` says): its
 * module, or a function that imports it on first use. A later registration under the same name wins.
 */
export function registerAvatarProvider(name: string, provider: AvatarProviderModule | ProviderLoader): void {
  if (!name) throw new TypeError('registerAvatarProvider: the provider needs a name');
  providers.set(name, typeof provider === 'function' ? provider : () => Promise.resolve(provider));
}

/** The names of every registered provider. */
export function avatarProviders(): string[] {
  return [...providers.keys()];
}

/** Loads the provider a session answer names. */
export async function loadAvatarProvider(name: string): Promise<AvatarProviderModule> {
  const load = providers.get(name);
  if (!load) {
    throw new SessionEndpointError(
      `the token endpoint's answer names the avatar provider "${name}", which this widget does not have (it has ${avatarProviders().join(', ')})`,
      200,
      false,
    );
  }
  try {
    return await load();
  } catch (cause) {
    throw new LoadError(`the code of the avatar provider "${name}" could not be loaded`, true, { cause });
  }
}
