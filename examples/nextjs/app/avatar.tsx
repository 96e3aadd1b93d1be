'use client';
// The element runs in the browser only: the server renders the tag with its attributes, and the
// effect registers it after hydration (`heygen-avatar/define` needs `customElements`).
import { useEffect, useRef, useState } from 'react';
import type {} from 'heygen-avatar/react';
import type { HeygenAvatar } from 'heygen-avatar';

export function Avatar() {
  const avatar = useRef<HeygenAvatar>(null);
  const [reply, setReply] = useState('');

  useEffect(() => {
    const el = avatar.current!;
    const onReply = (e: HTMLElementEventMap['heygen-avatar:reply']) => setReply(e.detail.text);
    el.addEventListener('heygen-avatar:reply', onReply);
    void import('heygen-avatar/define');
    return () => el.removeEventListener('heygen-avatar:reply', onReply);
  }, []);

  return (
    <>
      {/* No `llm` property: the broker's LLM route answers (LLM keys stay on the server). */}
      <heygen-avatar ref={avatar} token-endpoint="/api/avatar/session" language="en" />
      <p aria-live="polite">{reply}</p>
    </>
  );
}
