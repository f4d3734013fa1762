// The seed's second page (II.2): the agree button combined with getPhoneNumber,
// getRealtimePhoneNumber and getUserInfo: consent and the action's event, both.
'use strict'
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')

before(h.requireBackend)

const BUTTONS = [
  { id: 'agree-btn1', event: 'getphonenumber', errMsg: 'getPhoneNumber:ok', then: 'getPhoneNumber' },
  { id: 'agree-btn2', event: 'getrealtimephonenumber', errMsg: 'getRealtimePhoneNumber:ok', then: 'getPhoneNumber' },
  { id: 'agree-btn3', event: 'getuserinfo', errMsg: 'getUserInfo:ok', then: 'getUserProfile' },
]

for (const b of BUTTONS) {
  test(`#${b.id}: one tap gives consent and delivers ${b.event}`, async () => {
    const errors = []
    const wx = h.useWx({ onError: e => errors.push(e) })
    assert.equal((await wx.getPrivacySetting()).needAuthorization, true)

    const out = h.captureConsole()
    let events
    try {
      const comp = h.renderPage('combined-buttons')
      events = await h.userTaps(comp, wx, b.id)
      await h.waitFor(`the page's handler of ${b.event}`, () => out.log.length > 0)
    } finally {
      out.restore()
    }
    // The platform's events, in order: the consent, then the action.
    assert.equal(events.length, 2)
    assert.deepEqual(events[0], { type: 'agreeprivacyauthorization', detail: { buttonId: b.id } })
    assert.equal(events[1].type, b.event)
    assert.equal(events[1].detail.errMsg, b.errMsg)

    // The page's handler (console.log(e)) got the event with the platform's detail.
    const logged = out.log.map(a => a[0]).filter(e => e && e.type === b.event)
    assert.equal(logged.length, 1, `the page logged one ${b.event} event`)
    assert.deepEqual(logged[0].detail, events[1].detail)
    if (b.event === 'getuserinfo') {
      assert.equal(typeof logged[0].detail.userInfo.nickName, 'string')
      assert.equal(JSON.parse(logged[0].detail.rawData).nickName, logged[0].detail.userInfo.nickName)
    } else {
      assert.match(logged[0].detail.code, /^\S+$/)
    }

    // The consent part: recorded, and the declared APIs run without asking.
    assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
    assert.equal((await wx[b.then]()).errMsg, `${b.then}:ok`)
    assert.deepEqual(errors, [])
  })
}

test('#agree-btn1 with the phone-number sheet turned down: neither the action nor the consent', async () => {
  const wx = h.useWx()
  const events = await wx.tapButton({
    id: 'agree-btn1',
    openType: 'getPhoneNumber|agreePrivacyAuthorization',
    actionDenied: true,
  })
  assert.deepEqual(events, [{ type: 'getphonenumber', detail: { errMsg: 'getPhoneNumber:fail user deny' } }])
  assert.equal((await wx.getPrivacySetting()).needAuthorization, true)
  assert.deepEqual((await wx.getPrivacyHistory()).entries, [])
})
