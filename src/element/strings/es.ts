// UI strings: Spanish.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Empezar',
  stop: 'Terminar',
  mute: 'Silenciar',
  unmute: 'Activar micro',
  muteLabel: 'Silenciar el micrófono',
  unmuteLabel: 'Activar el micrófono',
  send: 'Enviar',
  typeHere: 'Escribe un mensaje',
  enableSound: 'Toca para activar el sonido',
  you: 'Tú',
  avatar: 'Avatar',
  captions: 'Conversación',
  micLevel: 'Nivel del micrófono',
  holdToTalk: 'Mantén pulsado para hablar',
  textMode: 'Escribe tu mensaje',
  timeUp: 'La conversación llegó a su límite de tiempo. Pulsa «Empezar» para comenzar de nuevo.',
  endingSoon: 'La conversación termina en {seconds} segundos.',
  states: {
    idle: 'Pulsa «Empezar» para hablar',
    connecting: 'Conectando…',
    listening: 'Escuchando',
    thinking: 'Pensando…',
    speaking: 'Hablando',
    ended: 'Conversación terminada',
    error: 'Algo salió mal',
  },
  errors: {
    tokenEndpoint: 'No se pudo iniciar la conversación. Inténtalo más tarde.',
    microphone: 'No se puede usar el micrófono. Puedes escribir.',
    microphoneDenied: 'Se bloqueó el acceso al micrófono. Puedes escribir, o permitir el micrófono y empezar de nuevo.',
    avatar: 'El servicio del avatar no responde. Inténtalo de nuevo.',
    transcriber: 'El reconocimiento de voz dejó de funcionar. Puedes escribir.',
    llm: 'No se pudo generar la respuesta. Pregunta de nuevo.',
    livekit: 'Se perdió la conexión de vídeo.',
    load: 'No se pudo cargar una parte del widget. Revisa tu conexión e inténtalo de nuevo.',
    session: 'La conversación terminó.',
    unsupported: 'Este navegador no puede mostrar el avatar en directo. Abre esta página en un Chrome, Edge, Firefox o Safari actual.',
  },
};

export default strings;
