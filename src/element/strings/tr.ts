// UI strings: Turkish.
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'Başlat',
  stop: 'Bitir',
  mute: 'Sessize al',
  unmute: 'Sesi aç',
  muteLabel: 'Mikrofonu kapat',
  unmuteLabel: 'Mikrofonu aç',
  send: 'Gönder',
  typeHere: 'Bir mesaj yazın',
  enableSound: 'Sesi açmak için dokunun',
  you: 'Siz',
  avatar: 'Avatar',
  captions: 'Sohbet',
  micLevel: 'Mikrofon seviyesi',
  holdToTalk: 'Konuşmak için basılı tutun',
  textMode: 'Mesajınızı yazın',
  timeUp: 'Sohbet süre sınırına ulaştı. Yeniden başlamak için “Başlat”a basın.',
  endingSoon: 'Sohbet {seconds} saniye sonra bitecek.',
  states: {
    idle: 'Konuşmak için “Başlat”a basın',
    connecting: 'Bağlanıyor…',
    listening: 'Dinliyorum',
    thinking: 'Düşünüyorum…',
    speaking: 'Konuşuyorum',
    ended: 'Sohbet bitti',
    error: 'Bir sorun oluştu',
  },
  errors: {
    tokenEndpoint: 'Sohbet başlatılamadı. Lütfen daha sonra tekrar deneyin.',
    microphone: 'Mikrofon kullanılamıyor. Bunun yerine yazabilirsiniz.',
    microphoneDenied: 'Mikrofon erişimi engellendi. Yazabilir ya da mikrofona izin verip yeniden başlayabilirsiniz.',
    avatar: 'Avatar hizmeti yanıt vermiyor. Lütfen tekrar deneyin.',
    transcriber: 'Konuşma tanıma çalışmıyor. Bunun yerine yazabilirsiniz.',
    llm: 'Yanıt oluşturulamadı. Lütfen tekrar sorun.',
    livekit: 'Video bağlantısı koptu.',
    load: 'Bileşenin bir kısmı yüklenemedi. Bağlantınızı kontrol edip tekrar deneyin.',
    session: 'Sohbet bitti.',
    unsupported: 'Bu tarayıcı canlı avatarı gösteremiyor. Lütfen sayfayı güncel bir Chrome, Edge, Firefox veya Safari ile açın.',
  },
};

export default strings;
