// Registers <heygen-avatar> before React renders, so React 19 sees its properties (`llm`) and sets them.
import 'heygen-avatar/define';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
