// The block's editor side, plain JavaScript against the editor's globals (no build step): a
// placeholder with the greeting, language, avatar and layout in the sidebar. The page shows the
// real widget, rendered by PHP (Embed::block).
(function (wp) {
  const { registerBlockType } = wp.blocks;
  const { createElement: h, Fragment } = wp.element;
  const { InspectorControls, useBlockProps } = wp.blockEditor;
  const { PanelBody, TextControl, SelectControl, ToggleControl, Placeholder } = wp.components;

  registerBlockType('heygen-avatar/avatar', {
    edit({ attributes, setAttributes }) {
      const set = (key) => (value) => setAttributes({ [key]: value });
      return h(
        Fragment,
        null,
        h(
          InspectorControls,
          null,
          h(
            PanelBody,
            { title: 'Avatar' },
            h(TextControl, { label: 'Greeting', value: attributes.greeting, onChange: set('greeting') }),
            h(TextControl, { label: 'Language (empty: the settings’)', value: attributes.language, onChange: set('language') }),
            h(TextControl, { label: 'Avatar id (empty: the settings’ first)', value: attributes.avatarId, onChange: set('avatarId') }),
            h(SelectControl, {
              label: 'Layout',
              value: attributes.layout,
              options: [
                { label: 'In the page', value: 'inline' },
                { label: 'Compact', value: 'compact' },
                { label: 'Floating in the corner', value: 'floating' },
              ],
              onChange: set('layout'),
            }),
            h(ToggleControl, { label: 'Hide the text box', checked: attributes.noTextInput, onChange: set('noTextInput') }),
          ),
        ),
        h('div', useBlockProps(), h(Placeholder, { icon: 'format-video', label: 'HeyGen Avatar', instructions: attributes.greeting || 'A live, talking avatar appears here on the page.' })),
      );
    },
    save: () => null,
  });
})(window.wp);
