// The adapter alone, against a scripted fetch (no backend): callbacks vs Promise, the lazy login
// and the one re-login on a 401, network failures, the long-poll's life, copying onto another object.
'use strict'
const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const vm = require('node:vm')
const { createWx } = require('../wx-privacy')

/** A fetch that answers from `routes[`${method} ${path}`]` (a function of the request) and records calls. */
function scripted(routes) {
  const calls = []
  const fetch = async (url, init) => {
    const u = new URL(url)
    const key = `${init.method} ${u.pathname}`
    const req = { url: u, key, init, body: init.body ? JSON.parse(init.body) : undefined, token: (init.headers.authorization || '').replace('Bearer ', '') }
    calls.push(req)
    const route = routes[key]
    if (!route) return reply(404, { errMsg: `${u.pathname}:fail no route` })
    return route(req)
  }
  return { fetch, calls }
}

function reply(status, body) {
  return { status, text: async () => JSON.stringify(body) }
}

let logins = 0
const login = req => reply(200, { errMsg: 'login:ok', token: `tok${++logins}`, openid: 'o_' + req.body.code, expiresIn: 7200, issuer: 'demo-code2session' })

test('Promise without callbacks; success + complete with callbacks; fail + complete on failure', async () => {
  const { fetch } = scripted({
    'POST /api/login': login,
    'GET /api/privacy/setting': () => reply(200, { errMsg: 'getPrivacySetting:ok', needAuthorization: true, privacyContractName: 'c' }),
    'GET /api/privacy/contract': () => reply(503, { errMsg: 'openPrivacyContract:fail privacy consent store unavailable (x)' }),
  })
  const wx = createWx({ baseUrl: 'http://backend.test', code: 'abc', fetch })
  const p = wx.getPrivacySetting()
  assert.ok(p instanceof Promise)
  assert.deepEqual(await p, { errMsg: 'getPrivacySetting:ok', needAuthorization: true, privacyContractName: 'c' })
  const order = []
  const r = wx.getPrivacySetting({ success: x => order.push(['success', x.errMsg]), complete: x => order.push(['complete', x.errMsg]) })
  assert.equal(r, undefined)
  await new Promise(res => setTimeout(res, 10))
  assert.deepEqual(order, [['success', 'getPrivacySetting:ok'], ['complete', 'getPrivacySetting:ok']])
  await assert.rejects(wx.openPrivacyContract(), { errMsg: 'openPrivacyContract:fail privacy consent store unavailable (x)' })
})

test('lazy login with code, SDKVersion, usePrivacyCheck; on a 401 one more login and a retry', async () => {
  let expired = true
  const { fetch, calls } = scripted({
    'POST /api/login': login,
    'GET /api/privacy/setting': req => {
      if (expired) { expired = false; return reply(401, { errMsg: 'getPrivacySetting:fail session expired: log in again (wx.login)' }) }
      return reply(200, { errMsg: 'getPrivacySetting:ok', needAuthorization: false, privacyContractName: 'c', token: req.token })
    },
  })
  const wx = createWx({ baseUrl: 'http://backend.test/', code: 'abc', SDKVersion: '3.3.4', usePrivacyCheck: true, fetch })
  const res = await wx.getPrivacySetting()
  assert.equal(res.errMsg, 'getPrivacySetting:ok')
  assert.deepEqual(calls.map(c => c.key), ['POST /api/login', 'GET /api/privacy/setting', 'POST /api/login', 'GET /api/privacy/setting'])
  assert.deepEqual(calls[0].body, { code: 'abc', SDKVersion: '3.3.4', usePrivacyCheck: true })
  assert.equal(calls[0].init.headers['content-type'], 'application/json')
  assert.equal(calls[1].init.headers.authorization, 'Bearer ' + calls[1].token)
  assert.notEqual(calls[3].token, calls[1].token, 'the retry uses the new token')
  assert.equal(res.token, calls[3].token)
  // A second 401 in a row is the answer.
  const { fetch: f2 } = scripted({
    'POST /api/login': login,
    'GET /api/privacy/setting': () => reply(401, { errMsg: 'getPrivacySetting:fail session forged' }),
  })
  await assert.rejects(createWx({ baseUrl: 'http://backend.test', code: 'x', fetch: f2 }).getPrivacySetting(), { errMsg: 'getPrivacySetting:fail session forged' })
})

test('a network failure fails with "<api>:fail <message>"', async () => {
  const fetch = async () => { throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }) }
  const wx = createWx({ code: 'abc', fetch, onError: () => {} })
  await assert.rejects(wx.getLocation(), { errMsg: 'getLocation:fail fetch failed (connect ECONNREFUSED 127.0.0.1:1)' })
  const real = createWx({ baseUrl: 'http://127.0.0.1:1', code: 'abc', onError: () => {} })
  await assert.rejects(real.getPrivacySetting(), e => /^getPrivacySetting:fail fetch failed/.test(e.errMsg))
})

test('a guarded call: 202 → call again; the long-poll runs only while it waits; no listener → unanswered → prompt refuse', async () => {
  const ticket = 'a'.repeat(32)
  let round = 0
  let settled = false
  const polls = []
  const { fetch, calls } = scripted({
    'POST /api/login': login,
    'POST /api/wx/getLocation': async () => {
      round++
      await new Promise(r => setTimeout(r, 30))
      if (round === 1 || !settled) return reply(202, { errMsg: `getLocation:fail privacy authorization pending (ticket ${ticket})`, ticket, stage: 'listener' })
      return reply(403, { errMsg: 'getLocation:fail privacy permission is not authorized', errno: 104 })
    },
    'GET /api/privacy/pending': async req => {
      polls.push(req.url.search)
      const after = req.url.searchParams.get('after')
      if (after === `${ticket}.listener` || after === `${ticket}.official_prompt`) {
        // Nothing changes until the client aborts.
        await new Promise((resolve, reject) => req.init.signal.addEventListener('abort', () => reject(new Error('aborted'))))
      }
      return reply(200, { errMsg: 'pending:ok', pending: { ticket, referrer: 'getLocation', stage: 'listener', scopes: ['location'], exposed: false } })
    },
    'POST /api/privacy/unanswered': () => reply(200, { errMsg: 'unanswered:ok', stage: 'official_prompt' }),
    'POST /api/privacy/prompt': req => { settled = true; return reply(200, { errMsg: 'prompt:ok', got: req.body }) },
  })
  const wx = createWx({ baseUrl: 'http://backend.test', code: 'abc', fetch })
  await assert.rejects(wx.getLocation(), { errMsg: 'getLocation:fail privacy permission is not authorized', errno: 104 })
  assert.ok(round >= 2, 'called again after a 202')
  const unanswered = calls.filter(c => c.key === 'POST /api/privacy/unanswered')
  const prompt = calls.filter(c => c.key === 'POST /api/privacy/prompt')
  assert.deepEqual(unanswered.map(c => c.body), [{ ticket }])
  assert.deepEqual(prompt.map(c => c.body), [{ ticket, answer: 'refuse', style: 'direct' }])
  assert.match(polls[0], /^\?timeout=25000$/)
  assert.equal(polls[1], `?timeout=25000&after=${ticket}.listener`)
  const last = calls.filter(c => c.key === 'GET /api/privacy/pending').pop()
  assert.equal(last.init.signal.aborted, true, 'the long-poll was aborted when the call finished')
})

test('resolve: one-shot for agree/disagree, exposure first, buttonId only with agree; listeners get (resolve, {referrer})', async () => {
  const ticket = 'b'.repeat(32)
  let decided = null
  const { fetch, calls } = scripted({
    'POST /api/login': login,
    'POST /api/wx/getClipboardData': async () => {
      while (!decided) await new Promise(r => setTimeout(r, 5))
      return decided === 'agree'
        ? reply(200, { errMsg: 'getClipboardData:ok', data: 'x' })
        : reply(403, { errMsg: 'getClipboardData:fail privacy permission is not authorized', errno: 104 })
    },
    'GET /api/privacy/pending': async req => {
      if (req.url.searchParams.get('after')) {
        await new Promise((resolve, reject) => req.init.signal.addEventListener('abort', () => reject(new Error('aborted'))))
      }
      return reply(200, { errMsg: 'pending:ok', pending: { ticket, referrer: 'getClipboardData', stage: 'listener', scopes: ['clipboard'], exposed: false } })
    },
    'POST /api/privacy/resolve': req => {
      if (req.body.event !== 'exposureAuthorization') decided = req.body.event
      return reply(200, { errMsg: 'resolve:ok' })
    },
  })
  const wx = createWx({ baseUrl: 'http://backend.test', code: 'abc', fetch, listenerTimeout: 50 })
  const seen = []
  const l1 = (resolve, info) => seen.push(['l1', info])
  const l2 = (resolve, info) => {
    seen.push(['l2', info])
    resolve({ event: 'exposureAuthorization' })
    resolve({ event: 'exposureAuthorization' }) // once only
    setTimeout(() => {
      resolve({ event: 'disagree', buttonId: 'agree-btn' })
      resolve({ event: 'agree', buttonId: 'agree-btn' }) // one-shot: ignored
    }, 100) // later than listenerTimeout: exposure stopped the fallback
  }
  const gone = () => seen.push(['removed'])
  // One listener at a time, as on the platform: each registration replaces the one before, and
  // removing a listener that is no longer registered changes nothing.
  wx.onNeedPrivacyAuthorization(l1)
  wx.onNeedPrivacyAuthorization(gone)
  wx.onNeedPrivacyAuthorization(l2)
  wx.offNeedPrivacyAuthorization(gone)
  await assert.rejects(wx.getClipboardData(), { errno: 104 })
  assert.deepEqual(seen, [['l2', { referrer: 'getClipboardData' }]])
  assert.deepEqual(calls.filter(c => c.key === 'POST /api/privacy/resolve').map(c => c.body), [
    { ticket, event: 'exposureAuthorization' },
    { ticket, event: 'disagree' },
  ])
  assert.equal(calls.filter(c => c.key === 'POST /api/privacy/unanswered').length, 0)
})

test('the methods are closures: copied onto another object (as miniprogram-simulate does) they still work', async () => {
  const { fetch } = scripted({
    'POST /api/login': login,
    'GET /api/privacy/setting': () => reply(200, { errMsg: 'getPrivacySetting:ok', needAuthorization: true, privacyContractName: 'c' }),
  })
  const target = Object.assign({ request() {} }, createWx({ baseUrl: 'http://backend.test', code: 'abc', fetch }))
  const { getPrivacySetting } = target
  assert.equal((await getPrivacySetting()).errMsg, 'getPrivacySetting:ok')
})

test('loaded by a <script> tag (no module): globalThis.createWx and window.WxPrivacy', () => {
  const source = fs.readFileSync(path.join(__dirname, '..', 'wx-privacy.js'), 'utf8')
  const window = { fetch: async () => reply(200, {}) }
  window.window = window
  vm.createContext(window)
  vm.runInContext(source, window, { filename: 'wx-privacy.js' })
  assert.equal(typeof window.createWx, 'function')
  assert.equal(window.WxPrivacy.createWx, window.createWx)
  const wx = window.createWx({ code: 'browser' })
  for (const api of ['getPrivacySetting', 'openPrivacyContract', 'requirePrivacyAuthorize', 'onNeedPrivacyAuthorization',
    'offNeedPrivacyAuthorization', 'getUserProfile', 'getLocation', 'chooseLocation', 'getWeRunData', 'getClipboardData',
    'getPhoneNumber', 'chooseAddress', 'nicknameInput', 'tapButton', 'clearPrivacyAuthorization', 'getPrivacyHistory',
    'getConsentReceipt', 'login']) {
    assert.equal(typeof wx[api], 'function', api)
  }
})
