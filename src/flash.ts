import { randomBytes } from 'node:crypto';
import type { FlashLevel, StoredFlash } from './codec.ts';

/** FlashMessage is one message of a {@link FlashView}. */
export interface FlashMessage {
  level: FlashLevel;
  text: string;
}

/**
 * FlashView is what templates render, as macaron's `.Flash.SuccessMsg`: each `…Msg` joins the
 * texts of its level with a space ('' when there are none); `messages` keeps every message in
 * the order it was set.
 */
export interface FlashView {
  successMsg: string;
  errorMsg: string;
  infoMsg: string;
  warningMsg: string;
  messages: FlashMessage[];
}

/** FlashHost is the part of a Session that a {@link Flash} records its changes through. */
export interface FlashHost {
  pendingFlashes(): readonly StoredFlash[];
  addFlash(message: StoredFlash): void;
  consumeFlashes(ids: ReadonlySet<string>): void;
}

/** buildFlashView turns messages into the template view. */
export function buildFlashView(messages: readonly FlashMessage[]): FlashView {
  const text = (level: FlashLevel) => messages.filter((m) => m.level === level).map((m) => m.text).join(' ');
  return {
    successMsg: text('success'),
    errorMsg: text('error'),
    infoMsg: text('info'),
    warningMsg: text('warning'),
    messages: messages.map(({ level, text }) => ({ level, text })),
  };
}

/**
 * Flash holds leveled messages for the next request, as macaron's flash does. A message is shown
 * exactly once: {@link Flash.view} consumes every message stored by earlier requests. With
 * `now = true` the message is shown in this request instead and never stored.
 */
export class Flash {
  readonly #host: FlashHost;
  readonly #shown: FlashMessage[] = [];
  readonly #now: FlashMessage[] = [];
  readonly #mine = new Set<string>();

  constructor(host: FlashHost) {
    this.#host = host;
  }

  /** success adds a success message for the next request (or this one with `now`). */
  success(text: string, now = false): void {
    this.#add('success', text, now);
  }

  /** error adds an error message for the next request (or this one with `now`). */
  error(text: string, now = false): void {
    this.#add('error', text, now);
  }

  /** info adds an info message for the next request (or this one with `now`). */
  info(text: string, now = false): void {
    this.#add('info', text, now);
  }

  /** warning adds a warning message for the next request (or this one with `now`). */
  warning(text: string, now = false): void {
    this.#add('warning', text, now);
  }

  /**
   * view returns the messages to render in this request: those stored by earlier requests, which
   * it consumes, followed by this request's `now` messages. Calling it again returns the same.
   */
  view(): FlashView {
    const waiting = this.#host.pendingFlashes().filter((m) => !this.#mine.has(m.id));
    if (waiting.length > 0) {
      this.#host.consumeFlashes(new Set(waiting.map((m) => m.id)));
      this.#shown.push(...waiting.map(({ level, text }) => ({ level, text })));
    }
    return buildFlashView([...this.#shown, ...this.#now]);
  }

  #add(level: FlashLevel, text: string, now: boolean): void {
    const message = String(text);
    if (now) {
      this.#now.push({ level, text: message });
      return;
    }
    const id = randomBytes(6).toString('base64url');
    this.#mine.add(id);
    this.#host.addFlash({ level, text: message, id });
  }
}
