// Keeps the captions list showing the newest line, the way a chat does: after each update it
// scrolls to the bottom, unless the visitor has scrolled up to read, until they scroll back down.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** How close to the bottom (px) still counts as following the conversation. */
const SLACK = 24;

export class CaptionsFollowController implements ReactiveController {
  readonly #find: () => HTMLElement | null;
  #list: HTMLElement | null = null;
  #following = true;

  constructor(host: ReactiveControllerHost, find: () => HTMLElement | null) {
    this.#find = find;
    host.addController(this);
  }

  hostUpdated(): void {
    const list = this.#find();
    if (list !== this.#list) {
      this.#list?.removeEventListener('scroll', this.#onScroll);
      list?.addEventListener('scroll', this.#onScroll, { passive: true });
      this.#list = list;
      this.#following = true;
    }
    if (list && this.#following) list.scrollTop = list.scrollHeight;
  }

  #onScroll = (): void => {
    const list = this.#list!;
    this.#following = list.scrollHeight - list.scrollTop - list.clientHeight <= SLACK;
  };
}
