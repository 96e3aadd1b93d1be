// Registers <heygen-avatar> before Svelte mounts, so Svelte sees its properties (`llm`) and sets them.
import 'heygen-avatar/define';
import { mount } from 'svelte';
import App from './App.svelte';

mount(App, { target: document.getElementById('app') });
