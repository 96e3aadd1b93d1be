// UI strings: Hebrew (laid out right to left).
// Short and plain; corrections by native speakers are welcome. `{seconds}` stands for a number.
import type { UiStringTable } from '../strings.js';

const strings: UiStringTable = {
  start: 'התחל',
  stop: 'סיים',
  mute: 'השתק',
  unmute: 'בטל השתקה',
  muteLabel: 'השתק את המיקרופון',
  unmuteLabel: 'הפעל את המיקרופון',
  send: 'שלח',
  typeHere: 'הקלד הודעה',
  enableSound: 'הקש כדי להפעיל את הצליל',
  you: 'אתם',
  avatar: 'אווטאר',
  captions: 'שיחה',
  micLevel: 'עוצמת המיקרופון',
  holdToTalk: 'לחץ והחזק כדי לדבר',
  textMode: 'הקלד את ההודעה שלך',
  timeUp: 'השיחה הגיעה למגבלת הזמן. לחץ על "התחל" כדי להתחיל מחדש.',
  endingSoon: 'השיחה תסתיים בעוד {seconds} שניות.',
  states: {
    idle: 'לחץ על "התחל" כדי לדבר',
    connecting: 'מתחבר…',
    listening: 'מקשיב',
    thinking: 'חושב…',
    speaking: 'מדבר',
    ended: 'השיחה הסתיימה',
    error: 'משהו השתבש',
  },
  errors: {
    tokenEndpoint: 'לא ניתן להתחיל את השיחה. נסה שוב מאוחר יותר.',
    microphone: 'לא ניתן להשתמש במיקרופון. אפשר להקליד במקום.',
    microphoneDenied: 'הגישה למיקרופון נחסמה. אפשר להקליד, או לאפשר את המיקרופון ולהתחיל מחדש.',
    avatar: 'שירות האווטאר לא מגיב. נסה שוב.',
    transcriber: 'זיהוי הדיבור הפסיק לעבוד. אפשר להקליד במקום.',
    llm: 'לא ניתן היה ליצור תשובה. שאל שוב.',
    livekit: 'חיבור הווידאו נותק.',
    load: 'לא ניתן היה לטעון חלק מהווידג׳ט. בדוק את החיבור ונסה שוב.',
    session: 'השיחה הסתיימה.',
    unsupported: 'הדפדפן הזה לא יכול להציג את האווטאר החי. פתח את הדף ב-Chrome, Edge, Firefox או Safari עדכני.',
  },
};

export default strings;
