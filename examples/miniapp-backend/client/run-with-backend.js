#!/usr/bin/env node
// npm run test:local: starts a fresh miniapp-backend (demo mode, a throwaway SQLite ledger, a free
// port), runs the node tests against it (BACKEND_URL), stops it. The binary is built by cargo:
// $MINIAPP_BACKEND, or <workspace>/target/debug/miniapp-backend. Extra arguments go to node --test.
'use strict'
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const bin = process.env.MINIAPP_BACKEND || path.resolve(__dirname, '../../../target/debug/miniapp-backend')
if (!fs.existsSync(bin)) {
  console.error(`no backend binary at ${bin}: build it (cargo build -p miniapp-backend) or set MINIAPP_BACKEND`)
  process.exit(2)
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'miniapp-client-'))
const backend = spawn(bin, ['--port', '0', '--db', path.join(dir, 'consent.db')], { stdio: ['ignore', 'pipe', 'inherit'] })
let output = ''
let tests = null

function cleanUp(code) {
  if (backend.exitCode === null) backend.kill('SIGINT')
  fs.rmSync(dir, { recursive: true, force: true })
  process.exit(code)
}

const timer = setTimeout(() => {
  console.error(`the backend did not print its URL within 30 s:\n${output}`)
  cleanUp(2)
}, 30000)

backend.on('exit', code => {
  if (!tests) {
    console.error(`the backend exited (${code}) before it listened:\n${output}`)
    cleanUp(2)
  }
})

backend.stdout.on('data', chunk => {
  output += chunk
  const m = /listening on (http:\/\/\S+)/.exec(output)
  if (!m || tests) return
  clearTimeout(timer)
  const files = fs.readdirSync(path.join(__dirname, 'test')).filter(f => f.endsWith('.test.js')).sort()
    .map(f => path.join('test', f))
  const args = ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files]
  console.log(`backend: ${m[1]} (ledger in ${dir})`)
  tests = spawn(process.execPath, args, { cwd: __dirname, stdio: 'inherit', env: { ...process.env, BACKEND_URL: m[1] } })
  tests.on('exit', (code, signal) => cleanUp(code === null ? 1 : code))
})

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { if (tests) tests.kill(sig); cleanUp(130) })
