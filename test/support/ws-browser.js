// What `ws` is in a browser: nothing. The Deepgram SDK imports it for Node and uses the page's own
// WebSocket in a browser; bundlers reduce ws/browser.js to an empty module, and the unbundled npm
// build under test gets this in its place (web-test-runner.config.mjs).
export const WebSocket = undefined;
export default undefined;
