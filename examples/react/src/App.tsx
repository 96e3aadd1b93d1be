import { useEffect, useRef, useState } from 'react';
import type {} from 'heygen-avatar/react';
import type { HeygenAvatar, LlmFunction } from 'heygen-avatar';

// Your LLM, streamed: here it only echoes. Unset, the avatar uses the broker's LLM route.
const echo: LlmFunction = async function* ({ text }) {
  yield `You said: ${text}.`;
};

export function App() {
  const avatar = useRef<HeygenAvatar>(null);
  const [log, setLog] = useState<string[]>([]);

  // Event names with a colon cannot be `on…` props: listen on the element (the events are typed).
  useEffect(() => {
    const el = avatar.current!;
    const add = (line: string) => setLog((lines) => [...lines, line]);
    const onStart = (e: HTMLElementEventMap['heygen-avatar:session-start']) => add(`session-start ${e.detail.sessionId}`);
    const onReply = (e: HTMLElementEventMap['heygen-avatar:reply']) => add(`reply ${e.detail.text}`);
    el.addEventListener('heygen-avatar:session-start', onStart);
    el.addEventListener('heygen-avatar:reply', onReply);
    return () => {
      el.removeEventListener('heygen-avatar:session-start', onStart);
      el.removeEventListener('heygen-avatar:reply', onReply);
    };
  }, []);

  return (
    <main>
      <h1>heygen-avatar in React 19</h1>
      <heygen-avatar ref={avatar} token-endpoint="/api/avatar/session" language="en" llm={echo} />
      <ol aria-label="Events">
        {log.map((line, i) => (
          <li key={i}>{line}</li>
        ))}
      </ol>
    </main>
  );
}
