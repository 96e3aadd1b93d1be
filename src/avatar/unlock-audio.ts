// iOS Safari (WebKit with RequiresUserGestureForAudioPlayback) plays a media element with sound only
// if that element was played during a user gesture once, or while the page captures the microphone.
// The avatar's voice reaches its <audio> seconds after the Start tap, after the session endpoint and
// the media connection answered; in text mode (no microphone) nothing captures. So Start plays the
// still empty element within the tap: WebKit then lifts the element's restriction for good.

/** Call synchronously in the click (before any await). Safe in every browser; a no-op once it has a source. */
export function unlockAudio(audio: HTMLMediaElement | null | undefined): void {
  if (!audio || audio.srcObject || audio.currentSrc || !audio.paused) return;
  // With no source the promise settles when one is attached (AbortError) or never: nothing to wait for.
  audio.play().catch(() => undefined);
}
