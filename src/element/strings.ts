// UI strings, chosen by the conversation language (Russian for `ru*`, English otherwise).

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

const en: UiStrings = {
  start: 'Start',
  stop: 'Stop',
  mute: 'Mute',
  unmute: 'Unmute',
  muteLabel: 'Mute microphone',
  unmuteLabel: 'Unmute microphone',
  send: 'Send',
  typeHere: 'Type a message',
  enableSound: 'Tap to enable sound',
  you: 'You',
  avatar: 'Avatar',
  captions: 'Conversation',
  micLevel: 'Microphone level',
  holdToTalk: 'Hold to talk',
  textMode: 'Type your message',
  timeUp: 'The conversation reached its time limit. Press Start to begin again.',
  endingSoon: (s) => `The conversation ends in ${s} seconds.`,
  states: {
    idle: 'Press start to talk',
    connecting: 'Connecting…',
    listening: 'Listening',
    thinking: 'Thinking…',
    speaking: 'Speaking',
    ended: 'Conversation ended',
    error: 'Something went wrong',
  },
  errors: {
    tokenEndpoint: 'Could not start the conversation. Please try again later.',
    microphone: 'The microphone could not be used. You can type instead.',
    microphoneDenied: 'Microphone access was blocked. You can type instead, or allow the microphone and start again.',
    avatar: 'The avatar service did not answer. Please try again.',
    transcriber: 'Speech recognition stopped working. You can type instead.',
    llm: 'The answer could not be generated. Please ask again.',
    livekit: 'The video connection was lost.',
    load: 'Part of the widget could not be loaded. Check your connection and try again.',
    session: 'The conversation ended.',
    unsupported: 'This browser cannot play the live avatar. Please open this page in a current Chrome, Edge, Firefox or Safari.',
  },
};

const ru: UiStrings = {
  start: 'Начать',
  stop: 'Завершить',
  mute: 'Выкл. микрофон',
  unmute: 'Вкл. микрофон',
  muteLabel: 'Выключить микрофон',
  unmuteLabel: 'Включить микрофон',
  send: 'Отправить',
  typeHere: 'Введите сообщение',
  enableSound: 'Нажмите, чтобы включить звук',
  you: 'Вы',
  avatar: 'Аватар',
  captions: 'Разговор',
  micLevel: 'Уровень микрофона',
  holdToTalk: 'Удерживайте, чтобы говорить',
  textMode: 'Напишите сообщение',
  timeUp: 'Время разговора истекло. Нажмите «Начать», чтобы начать снова.',
  endingSoon: (s) => `Разговор завершится через ${s} с.`,
  states: {
    idle: 'Нажмите «Начать», чтобы поговорить',
    connecting: 'Подключение…',
    listening: 'Слушаю',
    thinking: 'Думаю…',
    speaking: 'Говорю',
    ended: 'Разговор завершён',
    error: 'Что-то пошло не так',
  },
  errors: {
    tokenEndpoint: 'Не удалось начать разговор. Попробуйте позже.',
    microphone: 'Микрофон недоступен. Можно писать текстом.',
    microphoneDenied: 'Доступ к микрофону запрещён. Можно писать текстом или разрешить микрофон и начать снова.',
    avatar: 'Сервис аватара не отвечает. Попробуйте ещё раз.',
    transcriber: 'Распознавание речи перестало работать. Можно писать текстом.',
    llm: 'Не удалось получить ответ. Спросите ещё раз.',
    livekit: 'Видеосвязь прервалась.',
    load: 'Не удалось загрузить часть виджета. Проверьте соединение и попробуйте снова.',
    session: 'Разговор завершён.',
    unsupported: 'Этот браузер не может показать живого аватара. Откройте страницу в современном Chrome, Edge, Firefox или Safari.',
  },
};

export function stringsFor(language: string): UiStrings {
  return language.toLowerCase().startsWith('ru') ? ru : en;
}
