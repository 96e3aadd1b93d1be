// `import url from './x.ts?worklet'`: the build bundles x.ts into a self-contained AudioWorklet
// script, emits it as its own file and gives its URL (resolved against import.meta.url).
declare module '*?worklet' {
  const url: string;
  export default url;
}
