// What the Firefox and WebKit web-test-runner configs share: the test page loads the file
// microphone (test/support/engine-microphone.ts) before the test framework and the test file.

/** web-test-runner's `testRunnerHtml`: the file microphone first, then the framework. */
export const otherEngineHtml = (testFramework) => `<!doctype html>
<html>
  <body>
    <script type="module" src="/test/support/engine-microphone.ts"></script>
    <script type="module" src="${testFramework}"></script>
  </body>
</html>`;
