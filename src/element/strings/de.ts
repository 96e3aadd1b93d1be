// UI strings: German.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Starten',
  stop: 'Beenden',
  mute: 'Stumm',
  unmute: 'Ton an',
  muteLabel: 'Mikrofon stummschalten',
  unmuteLabel: 'Mikrofon einschalten',
  send: 'Senden',
  typeHere: 'Nachricht eingeben',
  enableSound: 'Tippen, um den Ton einzuschalten',
  you: 'Sie',
  avatar: 'Avatar',
  captions: 'Gespräch',
  micLevel: 'Mikrofonpegel',
  holdToTalk: 'Zum Sprechen gedrückt halten',
  textMode: 'Schreiben Sie Ihre Nachricht',
  timeUp: 'Das Gespräch hat sein Zeitlimit erreicht. Drücken Sie „Starten“, um neu zu beginnen.',
  endingSoon: 'Das Gespräch endet in {seconds} Sekunden.',
  states: {
    idle: 'Drücken Sie „Starten“, um zu sprechen',
    connecting: 'Verbinden…',
    listening: 'Ich höre zu',
    thinking: 'Ich denke nach…',
    speaking: 'Ich spreche',
    ended: 'Gespräch beendet',
    error: 'Etwas ist schiefgelaufen',
  },
  errors: {
    tokenEndpoint: 'Das Gespräch konnte nicht starten. Bitte versuchen Sie es später erneut.',
    microphone: 'Das Mikrofon ist nicht verfügbar. Sie können stattdessen schreiben.',
    microphoneDenied: 'Der Zugriff auf das Mikrofon wurde blockiert. Sie können schreiben oder das Mikrofon erlauben und neu starten.',
    avatar: 'Der Avatar-Dienst antwortet nicht. Bitte versuchen Sie es erneut.',
    transcriber: 'Die Spracherkennung funktioniert nicht mehr. Sie können stattdessen schreiben.',
    llm: 'Die Antwort konnte nicht erstellt werden. Bitte fragen Sie erneut.',
    livekit: 'Die Videoverbindung wurde unterbrochen.',
    load: 'Ein Teil des Widgets konnte nicht geladen werden. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
    session: 'Das Gespräch ist beendet.',
    unsupported: 'Dieser Browser kann den Live-Avatar nicht abspielen. Bitte öffnen Sie die Seite in einem aktuellen Chrome, Edge, Firefox oder Safari.',
  },
};

export default strings;
