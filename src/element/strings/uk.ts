// UI strings: Ukrainian.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Почати',
  stop: 'Завершити',
  mute: 'Вимк. мікрофон',
  unmute: 'Увімк. мікрофон',
  muteLabel: 'Вимкнути мікрофон',
  unmuteLabel: 'Увімкнути мікрофон',
  send: 'Надіслати',
  typeHere: 'Введіть повідомлення',
  enableSound: 'Натисніть, щоб увімкнути звук',
  you: 'Ви',
  avatar: 'Аватар',
  captions: 'Розмова',
  micLevel: 'Рівень мікрофона',
  holdToTalk: 'Утримуйте, щоб говорити',
  textMode: 'Напишіть повідомлення',
  timeUp: 'Час розмови вичерпано. Натисніть «Почати», щоб почати знову.',
  endingSoon: 'Розмова завершиться через {seconds} с.',
  states: {
    idle: 'Натисніть «Почати», щоб поговорити',
    connecting: 'Підключення…',
    listening: 'Слухаю',
    thinking: 'Думаю…',
    speaking: 'Говорю',
    ended: 'Розмову завершено',
    error: 'Щось пішло не так',
  },
  errors: {
    tokenEndpoint: 'Не вдалося почати розмову. Спробуйте пізніше.',
    microphone: 'Мікрофон недоступний. Можна писати текстом.',
    microphoneDenied: 'Доступ до мікрофона заборонено. Можна писати текстом або дозволити мікрофон і почати знову.',
    avatar: 'Сервіс аватара не відповідає. Спробуйте ще раз.',
    transcriber: 'Розпізнавання мовлення перестало працювати. Можна писати текстом.',
    llm: 'Не вдалося отримати відповідь. Запитайте ще раз.',
    livekit: 'Відеозв’язок перервався.',
    load: 'Не вдалося завантажити частину віджета. Перевірте з’єднання і спробуйте знову.',
    session: 'Розмову завершено.',
    unsupported: 'Цей браузер не може показати живого аватара. Відкрийте сторінку в сучасному Chrome, Edge, Firefox або Safari.',
  },
};

export default strings;
