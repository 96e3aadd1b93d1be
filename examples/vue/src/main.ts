// Registers <heygen-avatar> before Vue mounts, so Vue sees its properties (`llm`) and sets them.
import 'heygen-avatar/define';
import { createApp } from 'vue';
import App from './App.vue';

createApp(App).mount('#app');
