// UI strings: Italian.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Inizia',
  stop: 'Termina',
  mute: 'Silenzia',
  unmute: 'Riattiva',
  muteLabel: 'Disattiva il microfono',
  unmuteLabel: 'Attiva il microfono',
  send: 'Invia',
  typeHere: 'Scrivi un messaggio',
  enableSound: 'Tocca per attivare l’audio',
  you: 'Tu',
  avatar: 'Avatar',
  captions: 'Conversazione',
  micLevel: 'Livello del microfono',
  holdToTalk: 'Tieni premuto per parlare',
  textMode: 'Scrivi il tuo messaggio',
  timeUp: 'La conversazione ha raggiunto il limite di tempo. Premi «Inizia» per ricominciare.',
  endingSoon: 'La conversazione termina tra {seconds} secondi.',
  states: {
    idle: 'Premi «Inizia» per parlare',
    connecting: 'Connessione…',
    listening: 'Ascolto',
    thinking: 'Sto pensando…',
    speaking: 'Sto parlando',
    ended: 'Conversazione terminata',
    error: 'Qualcosa è andato storto',
  },
  errors: {
    tokenEndpoint: 'Impossibile avviare la conversazione. Riprova più tardi.',
    microphone: 'Il microfono non è disponibile. Puoi scrivere.',
    microphoneDenied: 'L’accesso al microfono è bloccato. Puoi scrivere, oppure consentire il microfono e ricominciare.',
    avatar: 'Il servizio avatar non risponde. Riprova.',
    transcriber: 'Il riconoscimento vocale ha smesso di funzionare. Puoi scrivere.',
    llm: 'Non è stato possibile generare la risposta. Chiedi di nuovo.',
    livekit: 'La connessione video si è interrotta.',
    load: 'Non è stato possibile caricare una parte del widget. Controlla la connessione e riprova.',
    session: 'La conversazione è terminata.',
    unsupported: 'Questo browser non può mostrare l’avatar dal vivo. Apri la pagina in un Chrome, Edge, Firefox o Safari aggiornato.',
  },
};

export default strings;
