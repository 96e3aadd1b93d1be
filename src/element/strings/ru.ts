// UI strings: Russian (the widget's default language).
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
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
  endingSoon: 'Разговор завершится через {seconds} с.',
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

export default strings;
