// UI strings: Portuguese (Brazilian wording; pt-PT and pt-BR both fall back to it).
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Começar',
  stop: 'Encerrar',
  mute: 'Silenciar',
  unmute: 'Ativar microfone',
  muteLabel: 'Silenciar o microfone',
  unmuteLabel: 'Ativar o microfone',
  send: 'Enviar',
  typeHere: 'Digite uma mensagem',
  enableSound: 'Toque para ativar o som',
  you: 'Você',
  avatar: 'Avatar',
  captions: 'Conversa',
  micLevel: 'Nível do microfone',
  holdToTalk: 'Segure para falar',
  textMode: 'Digite sua mensagem',
  timeUp: 'A conversa atingiu o limite de tempo. Toque em “Começar” para recomeçar.',
  endingSoon: 'A conversa termina em {seconds} segundos.',
  states: {
    idle: 'Toque em “Começar” para conversar',
    connecting: 'Conectando…',
    listening: 'Ouvindo',
    thinking: 'Pensando…',
    speaking: 'Falando',
    ended: 'Conversa encerrada',
    error: 'Algo deu errado',
  },
  errors: {
    tokenEndpoint: 'Não foi possível iniciar a conversa. Tente novamente mais tarde.',
    microphone: 'Não foi possível usar o microfone. Você pode digitar.',
    microphoneDenied: 'O acesso ao microfone foi bloqueado. Você pode digitar, ou permitir o microfone e começar de novo.',
    avatar: 'O serviço do avatar não respondeu. Tente novamente.',
    transcriber: 'O reconhecimento de voz parou de funcionar. Você pode digitar.',
    llm: 'Não foi possível gerar a resposta. Pergunte novamente.',
    livekit: 'A conexão de vídeo caiu.',
    load: 'Parte do widget não pôde ser carregada. Verifique sua conexão e tente novamente.',
    session: 'A conversa terminou.',
    unsupported: 'Este navegador não consegue exibir o avatar ao vivo. Abra esta página em um Chrome, Edge, Firefox ou Safari atual.',
  },
};

export default strings;
