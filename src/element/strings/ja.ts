// UI strings: Japanese.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: '開始',
  stop: '終了',
  mute: 'ミュート',
  unmute: 'ミュート解除',
  muteLabel: 'マイクをミュート',
  unmuteLabel: 'マイクのミュートを解除',
  send: '送信',
  typeHere: 'メッセージを入力',
  enableSound: 'タップして音声をオン',
  you: 'あなた',
  avatar: 'アバター',
  captions: '会話',
  micLevel: 'マイクの音量',
  holdToTalk: '押している間に話す',
  textMode: 'メッセージを入力してください',
  timeUp: '会話の制限時間に達しました。「開始」を押すともう一度始められます。',
  endingSoon: 'あと {seconds} 秒で会話が終了します。',
  states: {
    idle: '「開始」を押して話しかけてください',
    connecting: '接続中…',
    listening: '聞いています',
    thinking: '考えています…',
    speaking: '話しています',
    ended: '会話は終了しました',
    error: '問題が発生しました',
  },
  errors: {
    tokenEndpoint: '会話を開始できませんでした。しばらくしてからもう一度お試しください。',
    microphone: 'マイクを使用できません。文字で入力できます。',
    microphoneDenied: 'マイクへのアクセスがブロックされています。文字で入力するか、マイクを許可してもう一度開始してください。',
    avatar: 'アバターサービスが応答しません。もう一度お試しください。',
    transcriber: '音声認識が停止しました。文字で入力できます。',
    llm: '回答を作成できませんでした。もう一度質問してください。',
    livekit: 'ビデオ接続が切れました。',
    load: 'ウィジェットの一部を読み込めませんでした。接続を確認してもう一度お試しください。',
    session: '会話は終了しました。',
    unsupported: 'このブラウザーではライブアバターを再生できません。最新の Chrome、Edge、Firefox、Safari でこのページを開いてください。',
  },
};

export default strings;
