// Real responses against the OFFICIAL types: for every API in `SuccessResults`
// (types/wx-privacy.d.ts), the backend's answer has every key the type requires, with values of
// the declared kinds. The keys are read from the .d.ts with the TypeScript compiler API, so the
// check follows miniprogram-api-typings.
'use strict'
const { test, before } = require('node:test')
const assert = require('node:assert/strict')
const h = require('./helpers')
const { loadTypes, check, requiredKeys } = require('./official-types')

before(h.requireBackend)

test('every success result has the keys and kinds of its official type', async () => {
  const { checker, find } = loadTypes()
  const results = find('SuccessResults')
  const wx = h.useWx()

  const real = {}
  real.login = await wx.login()
  real.nicknameInputWithoutConsent = await wx.nicknameInput()
  real.getPrivacySetting = await wx.getPrivacySetting()
  real.openPrivacyContract = await wx.openPrivacyContract()
  real.tapButton = await wx.tapButton({ id: 'agree-btn3', openType: 'getUserInfo|agreePrivacyAuthorization' })
  const phone = await wx.tapButton({ id: 'agree-btn1', openType: 'getPhoneNumber|agreePrivacyAuthorization' })
  const realtime = await wx.tapButton({ id: 'agree-btn2', openType: 'getRealtimePhoneNumber|agreePrivacyAuthorization' })
  real.tapButton = real.tapButton.concat(phone, realtime)
  real.requirePrivacyAuthorize = await wx.requirePrivacyAuthorize()
  for (const api of ['getUserProfile', 'getLocation', 'chooseLocation', 'getClipboardData', 'getPhoneNumber', 'chooseAddress', 'nicknameInput']) {
    real[api] = await wx[api]()
  }
  real.getPrivacyHistory = await wx.getPrivacyHistory()
  real.getConsentReceipt = await wx.getConsentReceipt()
  real.clearPrivacyAuthorization = await wx.clearPrivacyAuthorization()

  const declared = checker.getPropertiesOfType(results).map(p => p.getName())
  const report = []
  const problems = []
  for (const api of declared) {
    if (api === 'getWeRunData') continue // declared only once the demo clock moves: 09-new-version checks it
    assert.ok(api in real, `the test calls ${api}`)
    const type = checker.getTypeOfSymbol(checker.getPropertyOfType(results, api))
    report.push(`${api}: ${requiredKeys(checker, type).join(', ')}`)
    check(checker, type, real[api], api, problems)
    if (!Array.isArray(real[api])) assert.equal(real[api].errMsg, `${api === 'getPrivacyHistory' ? 'history' : api === 'getConsentReceipt' ? 'receipt' : api}:ok`)
  }
  check(checker, checker.getTypeOfSymbol(checker.getPropertyOfType(results, 'nicknameInput')),
    real.nicknameInputWithoutConsent, 'nicknameInput(no consent)', problems)
  assert.deepEqual(real.nicknameInputWithoutConsent.type, 'text')
  assert.deepEqual(real.nicknameInput.type, 'nickname')
  assert.deepEqual(problems, [], 'responses match the official types:\n' + report.join('\n'))
  // The check itself works: a response missing a required key is caught.
  const broken = []
  const location = checker.getTypeOfSymbol(checker.getPropertyOfType(results, 'getLocation'))
  const { verticalAccuracy, ...partial } = real.getLocation
  check(checker, location, { ...partial, speed: '1' }, 'getLocation', broken)
  assert.deepEqual(broken.sort(), ['getLocation.speed: not a number: "1"', 'getLocation.verticalAccuracy: missing (required by GetLocationSuccessCallbackResult)'])
  void verticalAccuracy
})

test('every failure has the shape of PrivacyFailResult (errMsg, and errno as a number)', async () => {
  const { checker, find } = loadTypes()
  const fail = find('PrivacyFailResult')
  const wx = h.useWx()
  const failures = []
  failures.push(await wx.getLocation().catch(e => e)) // refused: 104
  failures.push(await wx.getLocation().catch(e => e)) // in gap: 104
  failures.push(await wx.tapButton({ id: 'x', openType: 'share' }).catch(e => e)) // 400, no errno
  const problems = []
  failures.forEach((f, i) => check(checker, fail, f, `failure[${i}]`, problems))
  assert.deepEqual(problems, [])
  assert.deepEqual(failures.map(f => f.errno), [104, 104, undefined]) // 112: 09-new-version
  for (const f of failures) assert.deepEqual(Object.keys(f).filter(k => k !== 'errMsg' && k !== 'errno'), [])
})
