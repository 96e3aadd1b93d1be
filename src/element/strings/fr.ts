// UI strings: French.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Démarrer',
  stop: 'Arrêter',
  mute: 'Couper le micro',
  unmute: 'Activer le micro',
  muteLabel: 'Couper le microphone',
  unmuteLabel: 'Activer le microphone',
  send: 'Envoyer',
  typeHere: 'Écrivez un message',
  enableSound: 'Touchez pour activer le son',
  you: 'Vous',
  avatar: 'Avatar',
  captions: 'Conversation',
  micLevel: 'Niveau du microphone',
  holdToTalk: 'Maintenez pour parler',
  textMode: 'Écrivez votre message',
  timeUp: 'La conversation a atteint sa durée maximale. Appuyez sur « Démarrer » pour recommencer.',
  endingSoon: 'La conversation se termine dans {seconds} secondes.',
  states: {
    idle: 'Appuyez sur « Démarrer » pour parler',
    connecting: 'Connexion…',
    listening: 'J’écoute',
    thinking: 'Je réfléchis…',
    speaking: 'Je parle',
    ended: 'Conversation terminée',
    error: 'Un problème est survenu',
  },
  errors: {
    tokenEndpoint: 'Impossible de démarrer la conversation. Réessayez plus tard.',
    microphone: 'Le microphone est indisponible. Vous pouvez écrire à la place.',
    microphoneDenied: 'L’accès au microphone est bloqué. Vous pouvez écrire, ou autoriser le microphone et recommencer.',
    avatar: 'Le service d’avatar ne répond pas. Réessayez.',
    transcriber: 'La reconnaissance vocale ne fonctionne plus. Vous pouvez écrire à la place.',
    llm: 'La réponse n’a pas pu être générée. Posez la question à nouveau.',
    livekit: 'La connexion vidéo a été perdue.',
    load: 'Une partie du widget n’a pas pu être chargée. Vérifiez votre connexion et réessayez.',
    session: 'La conversation est terminée.',
    unsupported: 'Ce navigateur ne peut pas afficher l’avatar en direct. Ouvrez cette page dans un Chrome, Edge, Firefox ou Safari récent.',
  },
};

export default strings;
