// The seed's pages are `Page({...})`; miniprogram-simulate loads only custom components. This
// `Page` registers the page's definition as a component, unchanged: `data` stays `data`, the
// page's own functions become `methods` (with `this` the component, so `this.setData` and
// `this.resolvePrivacyAuthorization = …` work as on a page), and the page lifecycle maps onto the
// component's: onLoad + onShow + onReady when attached, onUnload when detached.
// Each page's index.js requires this first; the seed's code follows verbatim.

const LIFECYCLE = ['onLoad', 'onShow', 'onReady', 'onHide', 'onUnload']

function Page(definition) {
  const methods = {}
  for (const [key, value] of Object.entries(definition)) {
    if (typeof value === 'function' && !LIFECYCLE.includes(key)) methods[key] = value
  }
  const run = (instance, name, ...args) => {
    if (typeof definition[name] === 'function') definition[name].apply(instance, args)
  }
  Component({
    data: definition.data || {},
    methods,
    lifetimes: {
      attached() {
        run(this, 'onLoad', {})
        run(this, 'onShow')
        run(this, 'onReady')
      },
      detached() {
        run(this, 'onUnload')
      },
    },
  })
}

module.exports = Page
