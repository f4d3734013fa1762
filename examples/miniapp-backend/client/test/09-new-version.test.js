// The seed's July case (II.1): consent given to the version in effect; a later version adds WeRun
// steps, so getWeRunData is refused (112) until it takes effect, then asks again.
// This file moves the backend's demo clock by a day: it runs last, and a backend can run it once.
'use strict'
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')
const { loadTypes, check } = require('./official-types')

before(h.requireBackend)

test('a new version\'s scope asks again: getWeRunData 112, then (a day later) the event with referrer getWeRunData', async () => {
  const errors = []
  const prompts = []
  const wx = h.useWx({ listenerTimeout: 30000, onError: e => errors.push(e), officialPrompt: i => { prompts.push(i); return true } })
  const { checker, find } = loadTypes()
  const raised = out => out.log.filter(a => typeof a[0] === 'string' && a[0].startsWith('触发本次事件的接口是:')).length
  const out = h.captureConsole()
  try {
    // The third page: agree to what is declared now.
    const comp = h.renderPage('need-privacy-authorization')
    await h.waitFor('the page\'s popup', () => comp.data.showPrivacy === true)
    await h.userTaps(comp, wx, 'agree-btn')
    await h.waitFor('getUserProfile:ok', () => out.log.some(a => a[0] && a[0].errMsg === 'getUserProfile:ok'))

    // WeRun is not in the guidelines in effect yet: 112 at once, nobody is asked.
    const raisedBefore112 = raised(out)
    const first = await wx.getWeRunData().catch(e => e)
    assert.deepEqual(first, { errMsg: 'getWeRunData:fail api scope is not declared in the privacy agreement', errno: 112 },
      'getWeRunData must be undeclared at first; if it is not, the demo clock was moved before (restart the backend)')
    const shape = []
    check(checker, find('PrivacyFailResult'), first, 'getWeRunData(112)', shape)
    assert.deepEqual(shape, [])
    assert.equal(raised(out), raisedBefore112, 'no event for an undeclared scope')
    assert.deepEqual(prompts, [], 'no official prompt for an undeclared scope')

    // A day later the version with WeRun is in effect.
    const moved = await h.backendPost('/demo/clock', { advanceSeconds: 86400 })
    assert.equal(moved.status, 200, `POST /demo/clock: ${JSON.stringify(moved.body)}`)

    assert.equal((await wx.getPrivacySetting()).needAuthorization, true, 'the new version needs consent')
    // What the user agreed to still runs without asking.
    assert.equal((await wx.getLocation()).errMsg, 'getLocation:ok')

    const raisedBefore = raised(out)
    const steps = wx.getWeRunData()
    await h.waitFor('the event for getWeRunData', () => out.log.some(a => a[0] === '触发本次事件的接口是:getWeRunData'))
    assert.equal(raised(out), raisedBefore + 1)
    // The popup's agree (tap + the page's resolve with the button id).
    await h.userTaps(comp, wx, 'agree-btn')
    const res = await steps
    assert.equal(res.errMsg, 'getWeRunData:ok')
    const results = find('SuccessResults')
    const problems = []
    check(checker, checker.getTypeOfSymbol(checker.getPropertyOfType(results, 'getWeRunData')), res, 'getWeRunData', problems)
    assert.deepEqual(problems, [], 'getWeRunData matches GetWeRunDataSuccessCallbackResult')
  } finally {
    out.restore()
  }
  assert.equal((await wx.getPrivacySetting()).needAuthorization, false)
  assert.deepEqual(prompts, [], 'the page\'s popup answered, not the official prompt')
  assert.deepEqual(errors, [])
})
