/*
 * wx-privacy.js: the privacy subset of a mini program's `wx`, implemented over the miniapp-backend's
 * HTTP API (../API.md). Plain JavaScript, no build step.
 *
 *   node (>= 20, global fetch):   const { createWx } = require('./wx-privacy')
 *   browser (<script src>):        window.WxPrivacy.createWx(...)  (also globalThis.createWx)
 *
 *   const wx = createWx({ baseUrl, code, SDKVersion, usePrivacyCheck, officialPrompt, listenerTimeout })
 *
 * Every API takes `success` / `fail` / `complete`, or returns a Promise when none of the three is
 * given. Results are the server's bodies (shaped as miniprogram-api-typings declares them); failures
 * are `{ errMsg: '<api>:fail …', errno? }`. Types: types/wx-privacy.d.ts.
 */
;(function (root, factory) {
  const exported = factory()
  if (typeof module === 'object' && module && module.exports) {
    module.exports = exported
  } else {
    root.createWx = exported.createWx
    root.WxPrivacy = exported
  }
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict'

  /** Guarded APIs: `POST /api/wx/<api>`, each a `#[privacy_scope]` handler on the backend. */
  const GUARDED_APIS = [
    'getUserProfile',
    'getLocation',
    'chooseLocation',
    'getWeRunData',
    'getClipboardData',
    'getPhoneNumber',
    'chooseAddress',
    'nicknameInput',
  ]

  const DEFAULT_LISTENER_TIMEOUT = 10000
  const DEFAULT_POLL_TIMEOUT = 25000
  const RETRY_DELAY = 500
  const HANDLED_MAX = 256

  /** A fail result on its way to `fail` / the Promise's rejection. */
  class Fail extends Error {
    constructor(result, network) {
      super(result.errMsg)
      this.result = result
      this.network = !!network // no HTTP answer at all
    }
  }

  function randomCode() {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
    let s = 'wx_'
    for (let i = 0; i < 24; i++) s += abc[Math.floor(Math.random() * abc.length)]
    return s
  }

  function sleep(ms, signal) {
    return new Promise(resolve => {
      if (signal && signal.aborted) return resolve()
      const t = setTimeout(done, ms)
      function done() {
        clearTimeout(t)
        if (signal) signal.removeEventListener('abort', done)
        resolve()
      }
      if (signal) signal.addEventListener('abort', done)
    })
  }

  /** Reports an exception thrown by user code (a callback, a listener) the way a host would. */
  function reportException(e) {
    if (typeof globalThis.reportError === 'function') globalThis.reportError(e)
    else setTimeout(() => { throw e })
  }

  function networkMessage(e) {
    let m = (e && e.message) || String(e)
    const cause = e && e.cause
    if (cause && cause.message && cause.message !== m) m += ' (' + cause.message + ')'
    return m
  }

  /** `{errMsg, errno?}` from a failed HTTP answer. */
  function failFrom(api, r) {
    const b = r.body
    if (b && typeof b === 'object' && typeof b.errMsg === 'string') {
      const f = { errMsg: b.errMsg }
      if (typeof b.errno === 'number') f.errno = b.errno
      return f
    }
    const text = (r.text || '').trim().slice(0, 200)
    return { errMsg: `${api}:fail HTTP ${r.status}${text ? ' ' + text : ''}` }
  }

  function hasCallbacks(opts) {
    return !!opts && (typeof opts.success === 'function' || typeof opts.fail === 'function' ||
      typeof opts.complete === 'function')
  }

  function createWx(options) {
    options = options || {}
    const baseUrl = String(options.baseUrl || '').replace(/\/+$/, '')
    const code = options.code === undefined ? randomCode() : String(options.code)
    const SDKVersion = options.SDKVersion
    const usePrivacyCheck = options.usePrivacyCheck
    const officialPrompt = options.officialPrompt
    const listenerTimeout = options.listenerTimeout === undefined ? DEFAULT_LISTENER_TIMEOUT : Number(options.listenerTimeout)
    const pollTimeout = options.pollTimeout === undefined ? DEFAULT_POLL_TIMEOUT : Number(options.pollTimeout)
    const doFetch = options.fetch || ((url, init) => globalThis.fetch(url, init))
    const onError = typeof options.onError === 'function'
      ? options.onError
      : e => { if (typeof console !== 'undefined') console.warn('[wx-privacy]', (e && e.errMsg) || e) }

    // ---- HTTP and the session -------------------------------------------------------------------

    let session = null // the body of /api/login: {token, openid, expiresIn, ...}
    let loggingIn = null

    async function raw(api, method, path, body, token, signal) {
      const headers = {}
      if (token) headers.authorization = 'Bearer ' + token
      const init = { method, headers }
      if (signal) init.signal = signal
      if (method !== 'GET') {
        headers['content-type'] = 'application/json'
        init.body = JSON.stringify(body || {})
      }
      let res, text
      try {
        res = await doFetch(baseUrl + path, init)
        text = await res.text()
      } catch (e) {
        if (signal && signal.aborted) throw e
        throw new Fail({ errMsg: `${api}:fail ${networkMessage(e)}` }, true)
      }
      let json = null
      if (text) {
        try { json = JSON.parse(text) } catch (_) { json = null }
      }
      return { status: res.status, body: json, text }
    }

    /** POST /api/login; one at a time, shared by concurrent callers. */
    function logIn(api) {
      if (!loggingIn) {
        loggingIn = (async () => {
          const body = { code }
          if (SDKVersion !== undefined) body.SDKVersion = SDKVersion
          if (usePrivacyCheck !== undefined) body.usePrivacyCheck = usePrivacyCheck
          const r = await raw('login', 'POST', '/api/login', body, null)
          if (r.status !== 200 || !r.body || typeof r.body.token !== 'string') throw new Fail(failFrom('login', r))
          session = r.body
          return r.body
        })().finally(() => { loggingIn = null })
      }
      return loggingIn.catch(e => {
        if (api === 'login' || !(e instanceof Fail)) throw e
        // The login failed on behalf of another API: that API fails, saying why.
        const why = e.result.errMsg.replace(/^login:fail\s*/, '')
        if (e.network) throw new Fail({ errMsg: `${api}:fail ${why}` }, true)
        const f = { errMsg: `${api}:fail login: ${why}` }
        if (e.result.errno !== undefined) f.errno = e.result.errno
        throw new Fail(f)
      })
    }

    /** An authenticated request: lazy login, and on a 401 one more login and one retry. */
    async function request(api, method, path, body, signal) {
      let retried = false
      for (;;) {
        if (!session) await logIn(api)
        const token = session.token
        const r = await raw(api, method, path, body, token, signal)
        if (r.status === 401 && !retried) {
          retried = true
          if (session && session.token === token) session = null
          continue
        }
        return r
      }
    }

    /** An authenticated request whose 200 body is the success result; anything else fails. */
    async function simple(api, method, path, body) {
      const r = await request(api, method, path, body)
      if (r.status === 200 && r.body && typeof r.body === 'object') return r.body
      throw new Fail(failFrom(api, r))
    }

    /** A request made on the page's behalf (resolve, unanswered, prompt): never rejects. */
    async function notify(api, path, body) {
      try {
        const r = await request(api, 'POST', path, body)
        if (r.status === 200 && r.body) return r.body
        const f = failFrom(api, r)
        onError(f)
        return f
      } catch (e) {
        const f = e instanceof Fail ? e.result : { errMsg: `${api}:fail ${networkMessage(e)}` }
        onError(f)
        return f
      }
    }

    // ---- callbacks or Promise -------------------------------------------------------------------

    function api(name, run) {
      return function (opts) {
        const cb = hasCallbacks(opts)
        const settled = Promise.resolve()
          .then(() => run(opts || {}))
          .then(
            res => ({ ok: true, res }),
            err => ({
              ok: false,
              res: err instanceof Fail ? err.result : { errMsg: `${name}:fail ${networkMessage(err)}` },
            }))
        if (!cb) return settled.then(o => (o.ok ? o.res : Promise.reject(o.res)))
        settled.then(o => {
          const first = o.ok ? opts.success : opts.fail
          if (typeof first === 'function') {
            try { first(o.res) } catch (e) { reportException(e) }
          }
          if (typeof opts.complete === 'function') {
            try { opts.complete(o.res) } catch (e) { reportException(e) }
          }
        })
        return undefined
      }
    }

    // ---- watching the user's open authorization while a call waits --------------------------------

    const listeners = []
    const handled = new Set() // `${ticket}.${stage}` this wx has acted on
    const timers = new Map() // ticket -> listener fallback timer
    let inFlight = 0
    let poll = null // AbortController of the running long-poll

    function markHandled(key) {
      if (handled.has(key)) return false
      handled.add(key)
      if (handled.size > HANDLED_MAX) handled.delete(handled.values().next().value)
      return true
    }

    function clearTimer(ticket) {
      const t = timers.get(ticket)
      if (t !== undefined) {
        clearTimeout(t)
        timers.delete(ticket)
      }
    }

    function clearTimersExcept(ticket) {
      for (const k of Array.from(timers.keys())) if (k !== ticket) clearTimer(k)
    }

    /** Counts a call in flight; the long-poll runs while the count is above zero. */
    function watch() {
      inFlight++
      if (!poll) startPoll()
      let released = false
      return () => {
        if (released) return
        released = true
        if (--inFlight === 0) stopPoll()
      }
    }

    function stopPoll() {
      if (poll) {
        poll.abort()
        poll = null
      }
      clearTimersExcept(null)
    }

    function startPoll() {
      const ctl = new AbortController()
      poll = ctl
      ;(async () => {
        let after = null
        while (!ctl.signal.aborted) {
          try {
            let q = '?timeout=' + encodeURIComponent(pollTimeout)
            if (after) q += '&after=' + encodeURIComponent(after)
            const r = await request('pending', 'GET', '/api/privacy/pending' + q, null, ctl.signal)
            if (ctl.signal.aborted) break
            if (r.status === 200 && r.body && typeof r.body === 'object' && 'pending' in r.body) {
              const p = r.body.pending
              if (p && typeof p.ticket === 'string') {
                const key = p.ticket + '.' + p.stage
                if (key === after) await sleep(200, ctl.signal) // not a change: do not spin
                after = key
                clearTimersExcept(p.ticket)
                onPending(p)
              } else {
                after = null
                clearTimersExcept(null)
              }
            } else {
              onError(failFrom('pending', r))
              await sleep(RETRY_DELAY, ctl.signal)
            }
          } catch (e) {
            if (ctl.signal.aborted) break
            onError(e instanceof Fail ? e.result : e)
            await sleep(RETRY_DELAY, ctl.signal)
          }
        }
      })()
    }

    function onPending(p) {
      if (!markHandled(p.ticket + '.' + p.stage)) return
      if (p.stage === 'listener') runListeners(p)
      else if (p.stage === 'official_prompt') {
        clearTimer(p.ticket)
        runOfficialPrompt(p)
      }
    }

    function unanswered(p) {
      clearTimer(p.ticket)
      return notify('unanswered', '/api/privacy/unanswered', { ticket: p.ticket }).then(res => {
        // The official prompt takes over at once; the long-poll would report it too.
        if (res && res.stage === 'official_prompt') {
          onPending({ ticket: p.ticket, referrer: p.referrer, stage: 'official_prompt', scopes: p.scopes })
        }
        return res
      })
    }

    function runListeners(p) {
      const ticket = p.ticket
      const current = listeners.slice()
      if (current.length === 0) {
        unanswered(p)
        return
      }
      let answered = false // agree / disagree sent: resolve is one-shot
      let exposed = false
      const resolve = option => {
        const event = option && option.event
        if (event === 'exposureAuthorization') {
          if (answered || exposed) return Promise.resolve(undefined)
          exposed = true
          clearTimer(ticket)
          return notify('resolve', '/api/privacy/resolve', { ticket, event })
        }
        if (event === 'agree' || event === 'disagree') {
          if (answered) return Promise.resolve(undefined)
          answered = true
          clearTimer(ticket)
          const body = { ticket, event }
          // buttonId belongs to agree only (the backend refuses it with disagree).
          if (event === 'agree' && option.buttonId !== undefined) body.buttonId = option.buttonId
          return notify('resolve', '/api/privacy/resolve', body)
        }
        const f = { errMsg: `resolve:fail unknown event ${JSON.stringify(event)}` }
        onError(f)
        return Promise.resolve(f)
      }
      timers.set(ticket, setTimeout(() => {
        timers.delete(ticket)
        if (!answered && !exposed) unanswered(p)
      }, listenerTimeout))
      const info = { referrer: p.referrer }
      for (const l of current) {
        try { l(resolve, info) } catch (e) { reportException(e) }
      }
    }

    async function runOfficialPrompt(p) {
      let agree = false
      if (typeof officialPrompt === 'function') {
        try {
          agree = (await officialPrompt({ referrer: p.referrer })) === true
        } catch (e) {
          reportException(e)
          agree = false
        }
      }
      const body = agree
        ? { ticket: p.ticket, answer: 'agree' }
        : { ticket: p.ticket, answer: 'refuse', style: 'direct' }
      return notify('prompt', '/api/privacy/prompt', body)
    }

    /** A call that may wait for the user's answer: 202 → call again; the long-poll runs meanwhile. */
    function waiting(name, path) {
      return api(name, async () => {
        const done = watch()
        try {
          for (;;) {
            const started = Date.now()
            const r = await request(name, 'POST', path, {})
            if (r.status === 202) {
              if (Date.now() - started < 250) await sleep(50)
              continue
            }
            if (r.status === 200 && r.body && typeof r.body === 'object') return r.body
            throw new Fail(failFrom(name, r))
          }
        } finally {
          done()
        }
      })
    }

    // ---- the wx object ------------------------------------------------------------------------------
    // Plain closures, no `this`: the methods survive being copied onto another object
    // (miniprogram-simulate does `global.wx = Object.assign(simApi, global.wx)`).

    const wx = {
      login: api('login', async () => {
        session = null
        const s = await logIn('login')
        return { errMsg: 'login:ok', code, openid: s.openid, expiresIn: s.expiresIn, issuer: s.issuer }
      }),

      getPrivacySetting: api('getPrivacySetting', () => simple('getPrivacySetting', 'GET', '/api/privacy/setting')),
      openPrivacyContract: api('openPrivacyContract', () => simple('openPrivacyContract', 'GET', '/api/privacy/contract')),
      requirePrivacyAuthorize: waiting('requirePrivacyAuthorize', '/api/privacy/require'),

      // As on the platform, one listener at a time: registering replaces the one before.
      onNeedPrivacyAuthorization(listener) {
        if (typeof listener !== 'function') throw new TypeError('onNeedPrivacyAuthorization: listener must be a function')
        listeners.length = 0
        listeners.push(listener)
      },
      offNeedPrivacyAuthorization(listener) {
        if (listener === undefined || listeners[0] === listener) listeners.length = 0
      },

      /** The platform's side of a tap on `<button open-type=…>`: the events the page receives. */
      tapButton: api('tap', async opts => {
        const req = { buttonId: opts.id, openType: opts.openType }
        // A combined button whose own sheet (phone number, profile) the user turned down.
        if (opts.actionDenied) req.actionDenied = true
        const body = await simple('tap', 'POST', '/api/privacy/tap', req)
        return Array.isArray(body.events) ? body.events : []
      }),

      clearPrivacyAuthorization: api('clearPrivacyAuthorization',
        () => simple('clearPrivacyAuthorization', 'POST', '/api/privacy/clear', {})),
      getPrivacyHistory: api('history', () => simple('history', 'GET', '/api/privacy/history')),
      getConsentReceipt: api('receipt', () => simple('receipt', 'GET', '/api/privacy/receipt')),
    }
    for (const name of GUARDED_APIS) wx[name] = waiting(name, '/api/wx/' + name)
    return wx
  }

  return { createWx, GUARDED_APIS }
})
