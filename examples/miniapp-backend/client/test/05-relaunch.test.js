// A relaunch: a second createWx with the same login code is the same user, and keeps the consent.
'use strict'
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')

before(h.requireBackend)

test('two createWx with the same code: one openid, one consent', async () => {
  const code = h.newCode('relaunch')
  const first = h.useWx({ code })
  const { comp } = await h.renderUntilPopup()
  await h.userTaps(comp, first, 'agree-btn')

  // Relaunch: a new wx (new session, new token) with the same code.
  const second = h.useWx({ code })
  const [a, b] = [await first.login(), await second.login()]
  assert.equal(a.openid, b.openid)
  const out2 = h.captureConsole()
  let again
  try {
    again = h.renderPage('get-privacy-setting')
    await h.waitFor('the page\'s getPrivacySetting', () => out2.log.some(x => x[0] && x[0].errMsg === 'getPrivacySetting:ok'))
  } finally {
    out2.restore()
  }
  const setting = out2.log.map(x => x[0]).find(r => r && r.errMsg === 'getPrivacySetting:ok')
  assert.equal(setting.needAuthorization, false)
  assert.equal(again.data.showPrivacy, false, 'no popup after the relaunch')
  assert.equal((await second.getUserProfile()).errMsg, 'getUserProfile:ok')

  // Another code is another user.
  const other = h.createWx({ baseUrl: h.BACKEND_URL, code: h.newCode('other') })
  assert.notEqual((await other.login()).openid, a.openid)
  assert.equal((await other.getPrivacySetting()).needAuthorization, true)
})

test('the same user in two wx at once: an authorization raised by one is answered by the other\'s tap', async () => {
  const code = h.newCode('twice')
  const one = h.createWx({ baseUrl: h.BACKEND_URL, code, listenerTimeout: 30000 })
  const two = h.createWx({ baseUrl: h.BACKEND_URL, code })
  const raised = []
  one.onNeedPrivacyAuthorization((resolve, info) => raised.push(info))
  const call = one.getClipboardData()
  await h.waitFor('the event in the first wx', () => raised.length === 1)
  assert.deepEqual(raised, [{ referrer: 'getClipboardData' }])
  await two.tapButton({ id: 'agree-btn', openType: 'agreePrivacyAuthorization' })
  assert.equal((await call).errMsg, 'getClipboardData:ok')
})
