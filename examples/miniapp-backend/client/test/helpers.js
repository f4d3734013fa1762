// Shared set-up of the node tests: a DOM (jsdom), a `wx` over the RUNNING backend at
// $BACKEND_URL, miniprogram-simulate, and small helpers. Require it first in every test file.
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const crypto = require('node:crypto')
const assert = require('node:assert/strict')

const HOW_TO_START = `
  These tests run against a RUNNING miniapp-backend; set BACKEND_URL to its address. From the
  workspace root (build it first: cargo build -p miniapp-backend):

    target/debug/miniapp-backend --port 0 --db "$(mktemp -d)/consent.db"
      # prints: listening on http://127.0.0.1:PORT
    cd examples/miniapp-backend/client && BACKEND_URL=http://127.0.0.1:PORT npm test

  or let npm start a fresh one and stop it afterwards: npm run test:local
  (09-new-version moves the backend's demo clock by a day: use a fresh backend for every run)`

const BACKEND_URL = (process.env.BACKEND_URL || '').replace(/\/+$/, '')

/** Fails the test (file) loudly when there is no backend to test against. */
async function requireBackend() {
  if (!BACKEND_URL) throw new Error('BACKEND_URL is not set.' + HOW_TO_START)
  try {
    const r = await fetch(BACKEND_URL + '/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: newCode() }),
    })
    const body = await r.json()
    assert.equal(r.status, 200, `POST ${BACKEND_URL}/api/login: HTTP ${r.status} ${JSON.stringify(body)}`)
    assert.equal(body.errMsg, 'login:ok')
  } catch (e) {
    throw new Error(`the backend at BACKEND_URL=${BACKEND_URL} does not answer POST /api/login: ${e.message}` + HOW_TO_START)
  }
}

/** A fresh login code: a new openid, so that tests never share a user. */
function newCode(prefix = 't') {
  return `${prefix}_${crypto.randomBytes(12).toString('hex')}`
}

// ---- the DOM, then wx, then miniprogram-simulate (in this order: see toolchain-recipes §3) ----

require('global-jsdom/register')
// node 20 has its own CustomEvent/Event, which global-jsdom leaves in place; j-component needs jsdom's.
global.CustomEvent = window.CustomEvent
global.Event = window.Event

const { createWx } = require('../wx-privacy')

const quiet = () => {}
// simulate merges its own API stubs under this object: `global.wx = Object.assign(simApi, global.wx)`.
global.wx = createWx({ baseUrl: BACKEND_URL || 'http://127.0.0.1:9', code: newCode('boot'), onError: quiet })
const simulate = require('miniprogram-simulate')

/**
 * A fresh wx for one test (a new user unless `code` is given), installed as the pages' global `wx`:
 * its methods replace the previous ones on the object simulate built.
 */
function useWx(options = {}) {
  const wx = createWx({ baseUrl: BACKEND_URL, code: newCode(), onError: quiet, ...options })
  Object.assign(global.wx, wx)
  return wx
}

/** Loads and attaches one of the seed's pages (test/pages/<name>). */
function renderPage(name) {
  const file = path.join(__dirname, 'pages', name, 'index')
  const id = simulate.load(file, { compiler: 'simulate' })
  const comp = simulate.render(id)
  comp.attach(document.createElement('parent-wrapper'))
  comp.wxml = fs.readFileSync(file + '.wxml', 'utf8')
  return comp
}

/**
 * The `open-type` of `<button id=…>` in a page's WXML (the simulator does not keep the built-in
 * button's attributes in its DOM).
 */
function openTypeOf(wxml, id) {
  for (const tag of wxml.match(/<button\b[^>]*>/g) || []) {
    if (new RegExp(`\\bid="${id}"`).test(tag)) {
      const m = /\bopen-type="([^"]*)"/.exec(tag)
      return m ? m[1] : undefined
    }
  }
  return undefined
}

/**
 * Records console.log / console.error / console.warn: the seed's pages report through them
 * (`success: console.log`, `fail: console.error`, `console.log(e)`). Install BEFORE rendering:
 * `success: console.log` reads console.log when the page runs.
 */
function captureConsole() {
  const saved = { log: console.log, error: console.error, warn: console.warn }
  const seen = { log: [], error: [], warn: [] }
  for (const k of Object.keys(saved)) console[k] = (...args) => { seen[k].push(args) }
  seen.restore = () => Object.assign(console, saved)
  return seen
}

/** Waits until `fn()` returns a truthy value; fails after `timeout` ms saying what it waited for. */
async function waitFor(what, fn, timeout = 8000) {
  const until = Date.now() + timeout
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > until) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise(r => setTimeout(r, 20))
  }
}

/**
 * Renders the seed's first page (getPrivacySetting on load) for a user who has not agreed, and
 * waits for its popup; returns the component and what the page logged meanwhile.
 */
async function renderUntilPopup() {
  const out = captureConsole()
  let comp
  try {
    comp = renderPage('get-privacy-setting')
    await waitFor('the popup (showPrivacy)', () => comp.data.showPrivacy === true)
  } finally {
    out.restore()
  }
  return { comp, log: out.log }
}

/**
 * The user taps `<button id=… open-type=…>` in the rendered page: the simulator's `tap`, the
 * platform's side (wx.tapButton → POST /api/privacy/tap), then each event the platform delivers
 * is dispatched on the button, so the page's bind… handlers run. Returns the events.
 */
async function userTaps(comp, wx, id) {
  const btn = comp.querySelector('#' + id)
  assert.ok(btn, `no #${id} in the page`)
  const openType = openTypeOf(comp.wxml, id)
  assert.ok(openType, `#${id} has no open-type in the page's WXML`)
  btn.dispatchEvent('tap')
  const events = await wx.tapButton({ id, openType })
  for (const ev of events) btn.dispatchEvent(ev.type, { detail: ev.detail })
  await simulate.sleep(0)
  return events
}

/** The `<button>` of a page with this text (for buttons without an id). */
function buttonByText(comp, text) {
  const dom = Array.from(comp.dom.querySelectorAll('wx-button')).find(d => d.textContent.trim() === text)
  assert.ok(dom && dom.__wxElement, `no button "${text}" in the page`)
  // j-component's node wrapper (the base class of the rendered page), as querySelector('#id') returns it.
  const Node = Object.getPrototypeOf(comp.constructor.prototype).constructor
  return new Node(dom.__wxElement)
}

/** POST to the backend without a session (the demo routes). */
async function backendPost(route, body) {
  const r = await fetch(BACKEND_URL + route, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: r.status, body: await r.json().catch(() => null) }
}

module.exports = {
  BACKEND_URL,
  requireBackend,
  newCode,
  createWx,
  useWx,
  simulate,
  renderPage,
  openTypeOf,
  captureConsole,
  waitFor,
  renderUntilPopup,
  userTaps,
  buttonByText,
  backendPost,
}
