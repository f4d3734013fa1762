// The seed's first page (II.2): wx.getPrivacySetting on load, the page's own popup, the agree button.
'use strict'
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')

before(h.requireBackend)

const NOT_AUTHORIZED = 'privacy permission is not authorized'

test('needAuthorization: the popup is shown; tapping agree gives consent and the guarded call proceeds', async () => {
  const errors = []
  const wx = h.useWx({ onError: e => errors.push(e) })
  const { comp, log } = await h.renderUntilPopup()
  // The page logged the result of getPrivacySetting.
  const setting = log.map(a => a[0]).find(r => r && r.errMsg === 'getPrivacySetting:ok')
  assert.ok(setting, 'the page logged getPrivacySetting:ok')
  assert.equal(setting.needAuthorization, true)
  assert.equal(typeof setting.privacyContractName, 'string')
  assert.ok(setting.privacyContractName.length > 0)
  assert.ok(comp.querySelector('#agree-btn'), 'the popup shows the agree button')

  // Before the tap: nothing may be called (no listener, no official prompt → refused).
  await assert.rejects(wx.getUserProfile(), { errMsg: `getUserProfile:fail ${NOT_AUTHORIZED}`, errno: 104 })
  await new Promise(r => setTimeout(r, 10))

  // The user taps 同意: the platform records consent and the page gets bindagreeprivacyauthorization.
  const events = await h.userTaps(comp, wx, 'agree-btn')
  assert.deepEqual(events, [{ type: 'agreeprivacyauthorization', detail: { buttonId: 'agree-btn' } }])

  assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
  // The declared privacy APIs now run: no event, no prompt.
  const profile = await wx.getUserProfile()
  assert.equal(profile.errMsg, 'getUserProfile:ok')
  assert.equal((await wx.getClipboardData()).errMsg, 'getClipboardData:ok')
  assert.deepEqual(errors, [])
})

test('查看隐私协议: the page opens the privacy contract', async () => {
  h.useWx()
  const { comp } = await h.renderUntilPopup()
  // Watch the page's wx.openPrivacyContract call and its answer.
  const results = []
  const openPrivacyContract = global.wx.openPrivacyContract
  global.wx.openPrivacyContract = opts => openPrivacyContract({
    ...opts,
    success: r => { results.push(r); opts.success(r) },
    fail: e => { results.push(e); opts.fail(e) },
  })
  try {
    h.buttonByText(comp, '查看隐私协议').dispatchEvent('tap')
    await h.waitFor('the page\'s openPrivacyContract', () => results.length === 1)
  } finally {
    global.wx.openPrivacyContract = openPrivacyContract
  }
  const [contract] = results
  assert.equal(contract.errMsg, 'openPrivacyContract:ok')
  assert.equal(typeof contract.name, 'string')
  assert.ok(typeof contract.url === 'string' || typeof contract.text === 'string', 'the contract has a url or a text')
})
