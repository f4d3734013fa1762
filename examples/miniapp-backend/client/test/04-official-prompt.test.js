// No listener: the official prompt answers (officialPrompt option); and the wx APIs the seed
// names besides the three pages: requirePrivacyAuthorize, <input type="nickname">, clearing.
'use strict'
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')

before(h.requireBackend)

test('no listener, officialPrompt true: the call proceeds', async () => {
  const prompts = []
  const wx = h.useWx({ officialPrompt: info => { prompts.push(info); return true } })
  const loc = await wx.getLocation()
  assert.equal(loc.errMsg, 'getLocation:ok')
  assert.deepEqual(prompts, [{ referrer: 'getLocation' }])
  assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
  // Consent covers every declared scope: no prompt again.
  assert.equal((await wx.chooseAddress()).errMsg, 'chooseAddress:ok')
  assert.equal(prompts.length, 1)
})

test('no listener, officialPrompt false: errno 104; again within 10 s: "in gap", no prompt', async () => {
  const prompts = []
  const wx = h.useWx({ officialPrompt: async info => { prompts.push(info); return false } })
  await assert.rejects(wx.getLocation(), { errMsg: 'getLocation:fail privacy permission is not authorized', errno: 104 })
  assert.deepEqual(prompts, [{ referrer: 'getLocation' }])
  // Callback style this time: fail and complete get the same result.
  const got = await new Promise(resolve => {
    const seen = {}
    wx.getLocation({
      success: r => { seen.success = r },
      fail: e => { seen.fail = e },
      complete: r => { seen.complete = r; resolve(seen) },
    })
  })
  assert.equal(got.success, undefined)
  assert.deepEqual(got.fail, { errMsg: 'getLocation:fail privacy permission is not authorized in gap', errno: 104 })
  assert.equal(got.complete, got.fail)
  assert.equal(prompts.length, 1, 'no prompt within the refusal gap')
})

test('no listener, no officialPrompt option: the prompt is refused (direct style, errno 104)', async () => {
  const wx = h.useWx()
  await assert.rejects(wx.getClipboardData(), { errMsg: 'getClipboardData:fail privacy permission is not authorized', errno: 104 })
})

test('requirePrivacyAuthorize: the listener exposes the popup, the user taps agree, resolve(agree)', async () => {
  const wx = h.useWx({ listenerTimeout: 300 })
  const answers = []
  const raised = []
  wx.onNeedPrivacyAuthorization(async (resolve, eventInfo) => {
    raised.push(eventInfo)
    answers.push(await resolve({ event: 'exposureAuthorization' }))
    // The user reads the popup for longer than listenerTimeout, then taps 同意.
    await new Promise(r => setTimeout(r, 500))
    answers.push(await wx.tapButton({ id: 'agree-btn', openType: 'agreePrivacyAuthorization' }))
    answers.push(await resolve({ buttonId: 'agree-btn', event: 'agree' }))
  })
  const res = await wx.requirePrivacyAuthorize()
  assert.equal(res.errMsg, 'requirePrivacyAuthorize:ok')
  await h.waitFor('the listener\'s three answers', () => answers.length === 3)
  assert.equal(raised.length, 1)
  assert.equal(typeof raised[0].referrer, 'string')
  assert.deepEqual(answers, [
    { errMsg: 'resolve:ok' },
    [{ type: 'agreeprivacyauthorization', detail: { buttonId: 'agree-btn' } }],
    { errMsg: 'resolve:ok' },
  ])
  assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
})

test('resolve(agree) naming a button the user did not tap is refused; the tap then settles it', async () => {
  const errors = []
  const wx = h.useWx({ onError: e => errors.push(e) })
  const early = []
  wx.onNeedPrivacyAuthorization(resolve => {
    resolve({ buttonId: 'agree-btn', event: 'agree' }).then(r => early.push(r))
  })
  const call = wx.getPhoneNumber()
  await h.waitFor('the early agree\'s answer', () => early.length === 1)
  assert.match(early[0].errMsg, /^resolve:fail /)
  assert.deepEqual(errors, [early[0]], 'onError saw it')
  await wx.tapButton({ id: 'agree-btn', openType: 'agreePrivacyAuthorization' })
  assert.equal((await call).errMsg, 'getPhoneNumber:ok')
})

test('<input type="nickname">: a text input without consent (no event), the nickname with it', async () => {
  let raised = 0
  const wx = h.useWx({ officialPrompt: () => { raised++; return true } })
  wx.onNeedPrivacyAuthorization(() => { raised++ })
  assert.deepEqual(await wx.nicknameInput(), { errMsg: 'nicknameInput:ok', type: 'text' })
  assert.equal(raised, 0, 'no event, no prompt')
  await wx.tapButton({ id: 'agree-btn', openType: 'agreePrivacyAuthorization' })
  const input = await wx.nicknameInput()
  assert.equal(input.type, 'nickname')
  assert.equal(typeof input.nickName, 'string')
})

test('clearPrivacyAuthorization: the user must agree again', async () => {
  const wx = h.useWx()
  await wx.tapButton({ id: 'agree-btn', openType: 'agreePrivacyAuthorization' })
  assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
  assert.equal((await wx.clearPrivacyAuthorization()).errMsg, 'clearPrivacyAuthorization:ok')
  assert.equal((await wx.getPrivacySetting()).needAuthorization, true)
  const history = await wx.getPrivacyHistory()
  assert.equal(history.errMsg, 'history:ok')
  assert.ok(Array.isArray(history.entries) && history.entries.length >= 2, 'the agreement and the clearing are in the ledger')
})

test('errors of the API itself: unknown button, unknown openType', async () => {
  const wx = h.useWx()
  await assert.rejects(wx.tapButton({ id: 'agree-btn', openType: 'share' }), err => {
    assert.match(err.errMsg, /^tap:fail /)
    return true
  })
  await assert.rejects(wx.tapButton({ id: 'no-such-button', openType: 'agreePrivacyAuthorization' }), err => {
    assert.match(err.errMsg, /^tap:fail /)
    return true
  })
})
