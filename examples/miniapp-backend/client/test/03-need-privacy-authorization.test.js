// The seed's third page (II.3): wx.onNeedPrivacyAuthorization, then wx.getUserProfile on load.
'use strict'
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')

before(h.requireBackend)

const NOT_AUTHORIZED = { errMsg: 'getUserProfile:fail privacy permission is not authorized', errno: 104 }
const RAISED = '触发本次事件的接口是:getUserProfile'

/** Renders the page with console capture kept on (its callbacks are console.log / console.error). */
async function openPage(options) {
  const errors = []
  const wx = h.useWx({ listenerTimeout: 30000, onError: e => errors.push(e), ...options })
  const out = h.captureConsole()
  const comp = h.renderPage('need-privacy-authorization')
  return { wx, out, comp, errors }
}

const results = (out, api) => out.log.map(a => a[0]).filter(r => r && r.errMsg === `${api}:ok`)
const failures = out => out.error.map(a => a[0])

test('getUserProfile raises the event (referrer getUserProfile); the popup\'s agree lets the call succeed', async () => {
  const { wx, out, comp, errors } = await openPage()
  try {
    await h.waitFor('the page\'s popup', () => comp.data.showPrivacy === true)
    assert.deepEqual(out.log.filter(a => a[0] === RAISED).length, 1, 'the listener logged the referrer once')
    assert.equal(typeof comp.instance.resolvePrivacyAuthorization, 'function', 'the page kept resolve')
    assert.equal(results(out, 'getUserProfile').length, 0, 'the call waits for the user')

    // The user taps 同意: the platform's tap, then the page's handler resolves agree with the button id.
    const events = await h.userTaps(comp, wx, 'agree-btn')
    assert.deepEqual(events, [{ type: 'agreeprivacyauthorization', detail: { buttonId: 'agree-btn' } }])

    const [profile] = await h.waitFor('getUserProfile:ok from the page', () => results(out, 'getUserProfile').length && results(out, 'getUserProfile'))
    assert.equal(typeof profile.userInfo.nickName, 'string')
    assert.deepEqual(failures(out), [])
  } finally {
    out.restore()
  }
  assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
  // Settled: the next call runs without an event.
  assert.equal((await wx.getLocation()).errMsg, 'getLocation:ok')
  assert.deepEqual(errors, [], 'the page\'s resolve(agree) was accepted')
})

test('resolve({event: "disagree"}) fails the call: errno 104, "privacy permission is not authorized"', async () => {
  const { wx, out, comp, errors } = await openPage()
  try {
    await h.waitFor('the page\'s popup', () => comp.data.showPrivacy === true)
    // The user closes the popup with 拒绝: the page resolves disagree (the seed's comment).
    const answer = await comp.instance.resolvePrivacyAuthorization({ event: 'disagree' })
    assert.equal(answer.errMsg, 'resolve:ok')
    const [err] = await h.waitFor('the page\'s fail (console.error)', () => failures(out).length && failures(out))
    assert.deepEqual(err, NOT_AUTHORIZED)
    assert.equal(results(out, 'getUserProfile').length, 0)
    // One-shot: a later agree is not sent.
    assert.equal(await comp.instance.resolvePrivacyAuthorization({ event: 'agree', buttonId: 'agree-btn' }), undefined)
  } finally {
    out.restore()
  }
  assert.equal((await wx.getPrivacySetting()).needAuthorization, true)
  assert.deepEqual(errors, [])
})

test('a listener that never resolves: after listenerTimeout the official prompt takes over (agree)', async () => {
  const prompts = []
  const { wx, out, comp } = await openPage({
    listenerTimeout: 300,
    officialPrompt: info => { prompts.push(info); return true },
  })
  try {
    await h.waitFor('the page\'s popup', () => comp.data.showPrivacy === true)
    // Nobody taps: the page's resolve is never called.
    await h.waitFor('getUserProfile:ok from the page', () => results(out, 'getUserProfile').length)
    assert.deepEqual(failures(out), [])
  } finally {
    out.restore()
  }
  assert.deepEqual(prompts, [{ referrer: 'getUserProfile' }])
  assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
})

test('a listener that never resolves, and the official prompt refused: errno 104', async () => {
  const prompts = []
  const { out, comp } = await openPage({
    listenerTimeout: 300,
    officialPrompt: async info => { prompts.push(info); return false },
  })
  try {
    await h.waitFor('the page\'s popup', () => comp.data.showPrivacy === true)
    const [err] = await h.waitFor('the page\'s fail (console.error)', () => failures(out).length && failures(out))
    assert.deepEqual(err, NOT_AUTHORIZED)
  } finally {
    out.restore()
  }
  assert.deepEqual(prompts, [{ referrer: 'getUserProfile' }])
})

test('the listener shows the popup (exposureAuthorization) and takes its time: no fallback', async () => {
  const prompts = []
  const { wx, out, comp, errors } = await openPage({
    listenerTimeout: 200,
    officialPrompt: () => { prompts.push(1); return false },
  })
  try {
    await h.waitFor('the page\'s popup', () => comp.data.showPrivacy === true)
    assert.equal((await comp.instance.resolvePrivacyAuthorization({ event: 'exposureAuthorization' })).errMsg, 'resolve:ok')
    await new Promise(r => setTimeout(r, 600)) // well past listenerTimeout
    assert.deepEqual(prompts, [], 'exposureAuthorization stops the fallback')
    await h.userTaps(comp, wx, 'agree-btn')
    await h.waitFor('getUserProfile:ok from the page', () => results(out, 'getUserProfile').length)
  } finally {
    out.restore()
  }
  assert.deepEqual(errors, [])
})
