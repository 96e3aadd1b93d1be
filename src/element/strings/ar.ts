// UI strings: Arabic (laid out right to left).
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'ابدأ',
  stop: 'إنهاء',
  mute: 'كتم',
  unmute: 'إلغاء الكتم',
  muteLabel: 'كتم الميكروفون',
  unmuteLabel: 'تشغيل الميكروفون',
  send: 'إرسال',
  typeHere: 'اكتب رسالة',
  enableSound: 'انقر لتشغيل الصوت',
  you: 'أنت',
  avatar: 'الصورة الرمزية',
  captions: 'المحادثة',
  micLevel: 'مستوى الميكروفون',
  holdToTalk: 'اضغط مع الاستمرار للتحدث',
  textMode: 'اكتب رسالتك',
  timeUp: 'بلغت المحادثة حدها الزمني. اضغط «ابدأ» للبدء من جديد.',
  endingSoon: 'تنتهي المحادثة بعد {seconds} ثانية.',
  states: {
    idle: 'اضغط «ابدأ» للتحدث',
    connecting: 'جارٍ الاتصال…',
    listening: 'أستمع',
    thinking: 'أفكر…',
    speaking: 'أتحدث',
    ended: 'انتهت المحادثة',
    error: 'حدث خطأ ما',
  },
  errors: {
    tokenEndpoint: 'تعذّر بدء المحادثة. حاول مرة أخرى لاحقًا.',
    microphone: 'تعذّر استخدام الميكروفون. يمكنك الكتابة بدلًا من ذلك.',
    microphoneDenied: 'تم حظر الوصول إلى الميكروفون. يمكنك الكتابة، أو السماح بالميكروفون والبدء من جديد.',
    avatar: 'خدمة الصورة الرمزية لا تستجيب. حاول مرة أخرى.',
    transcriber: 'توقف التعرف على الكلام. يمكنك الكتابة بدلًا من ذلك.',
    llm: 'تعذّر إنشاء الإجابة. اسأل مرة أخرى.',
    livekit: 'انقطع اتصال الفيديو.',
    load: 'تعذّر تحميل جزء من الأداة. تحقق من اتصالك وحاول مرة أخرى.',
    session: 'انتهت المحادثة.',
    unsupported: 'هذا المتصفح لا يستطيع عرض الصورة الرمزية المباشرة. افتح هذه الصفحة في إصدار حديث من Chrome أو Edge أو Firefox أو Safari.',
  },
};

export default strings;
