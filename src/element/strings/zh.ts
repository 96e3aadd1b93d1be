// UI strings: Chinese (Simplified; zh-TW and zh-HK fall back to it until a Traditional file exists).
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: '开始',
  stop: '结束',
  mute: '静音',
  unmute: '取消静音',
  muteLabel: '关闭麦克风',
  unmuteLabel: '打开麦克风',
  send: '发送',
  typeHere: '输入消息',
  enableSound: '点按以开启声音',
  you: '你',
  avatar: '数字人',
  captions: '对话',
  micLevel: '麦克风音量',
  holdToTalk: '按住说话',
  textMode: '请输入消息',
  timeUp: '对话已达到时间上限。按“开始”重新开始。',
  endingSoon: '对话将在 {seconds} 秒后结束。',
  states: {
    idle: '按“开始”开始对话',
    connecting: '正在连接…',
    listening: '正在聆听',
    thinking: '正在思考…',
    speaking: '正在说话',
    ended: '对话已结束',
    error: '出了点问题',
  },
  errors: {
    tokenEndpoint: '无法开始对话，请稍后再试。',
    microphone: '无法使用麦克风，你可以改为输入文字。',
    microphoneDenied: '麦克风权限被阻止。你可以输入文字，或允许麦克风后重新开始。',
    avatar: '数字人服务没有响应，请重试。',
    transcriber: '语音识别已停止工作，你可以改为输入文字。',
    llm: '无法生成回答，请再问一次。',
    livekit: '视频连接已中断。',
    load: '部分组件无法加载，请检查网络后重试。',
    session: '对话已结束。',
    unsupported: '此浏览器无法播放实时数字人，请在最新版 Chrome、Edge、Firefox 或 Safari 中打开此页面。',
  },
};

export default strings;
