// UI strings: Polish.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Rozpocznij',
  stop: 'Zakończ',
  mute: 'Wycisz',
  unmute: 'Włącz mikrofon',
  muteLabel: 'Wycisz mikrofon',
  unmuteLabel: 'Włącz mikrofon',
  send: 'Wyślij',
  typeHere: 'Wpisz wiadomość',
  enableSound: 'Dotknij, aby włączyć dźwięk',
  you: 'Ty',
  avatar: 'Awatar',
  captions: 'Rozmowa',
  micLevel: 'Poziom mikrofonu',
  holdToTalk: 'Przytrzymaj, aby mówić',
  textMode: 'Napisz wiadomość',
  timeUp: 'Rozmowa osiągnęła limit czasu. Naciśnij „Rozpocznij”, aby zacząć od nowa.',
  endingSoon: 'Rozmowa zakończy się za {seconds} s.',
  states: {
    idle: 'Naciśnij „Rozpocznij”, aby porozmawiać',
    connecting: 'Łączenie…',
    listening: 'Słucham',
    thinking: 'Myślę…',
    speaking: 'Mówię',
    ended: 'Rozmowa zakończona',
    error: 'Coś poszło nie tak',
  },
  errors: {
    tokenEndpoint: 'Nie udało się rozpocząć rozmowy. Spróbuj później.',
    microphone: 'Mikrofon jest niedostępny. Możesz pisać.',
    microphoneDenied: 'Dostęp do mikrofonu jest zablokowany. Możesz pisać albo zezwolić na mikrofon i zacząć od nowa.',
    avatar: 'Usługa awatara nie odpowiada. Spróbuj ponownie.',
    transcriber: 'Rozpoznawanie mowy przestało działać. Możesz pisać.',
    llm: 'Nie udało się przygotować odpowiedzi. Zapytaj ponownie.',
    livekit: 'Połączenie wideo zostało przerwane.',
    load: 'Nie udało się wczytać części widżetu. Sprawdź połączenie i spróbuj ponownie.',
    session: 'Rozmowa zakończona.',
    unsupported: 'Ta przeglądarka nie może wyświetlić awatara na żywo. Otwórz stronę w aktualnym Chrome, Edge, Firefox lub Safari.',
  },
};

export default strings;
