// UI strings: English: the fallback for every language without its own file, and for any key a file leaves out.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
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
  endingSoon: 'The conversation ends in {seconds} seconds.',
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

export default strings;
