// Keeps the captions list showing the newest line, the way a chat does: a list that was at its
// bottom before an update is scrolled to its new bottom after it; a list the visitor scrolled up to
// read is left where it is until they scroll back down. The position is read just before each
// render, so no scroll event has to arrive first.
import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** How close to the bottom (px) still counts as following the conversation. */
const SLACK = 24;

export class CaptionsFollowController implements ReactiveController {
  readonly #find: () => HTMLElement | null;
  #follow = true;

  constructor(host: ReactiveControllerHost, find: () => HTMLElement | null) {
    this.#find = find;
    host.addController(this);
  }

  hostUpdate(): void {
    const list = this.#find();
    this.#follow = !list || list.scrollHeight - list.scrollTop - list.clientHeight <= SLACK;
  }

  hostUpdated(): void {
    const list = this.#find();
    if (list && this.#follow) list.scrollTop = list.scrollHeight;
  }
}
